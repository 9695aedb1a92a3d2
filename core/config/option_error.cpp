#include "config/option_error.hpp"

#include <algorithm>
#include <map>

namespace po = boost::program_options;

namespace lxcri {
namespace {

// The template's placeholders and their values live in protected members;
// pointers to members taken in a derived class read them from any error.
struct Fields : po::error_with_option_name {
    using Substitutions = std::map<std::string, std::string>;
    using Defaults = std::map<std::string, std::pair<std::string, std::string>>;
    static const Substitutions& substitutions(const po::error_with_option_name& e) {
        return e.*(&Fields::m_substitutions);
    }
    static const Defaults& defaults(const po::error_with_option_name& e) { return e.*(&Fields::m_substitution_defaults); }
    static std::string prefix(const po::error_with_option_name& e) {
        return (e.*(&Fields::get_canonical_option_prefix))();
    }
};

// Replaces every `from` in `text` by `to`, scanning only the original text.
std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
    if (from.empty()) return text;
    std::string out;
    std::size_t pos = 0;
    for (std::size_t at; (at = text.find(from, pos)) != std::string::npos; pos = at + from.size())
        out.append(text, pos, at - pos).append(to);
    return out.append(text, pos);
}

// Boost's own rules (value_semantic.cpp, substitute_placeholders), with
// each replacement made once: the defaults rewrite the template (fixed
// texts), then one left-to-right pass puts in the values, so a value that
// contains "%name%" stays as typed.
std::string format(const po::error_with_option_name& e) {
    Fields::Substitutions values = Fields::substitutions(e);
    values["canonical_option"] = e.get_option_name();
    values["prefix"] = Fields::prefix(e);
    std::string text = e.m_error_template;
    for (const auto& [name, phrase] : Fields::defaults(e))
        if (values[name].empty()) text = replace_all(text, phrase.first, phrase.second);

    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t open = text.find('%', pos);
        std::size_t close = open == std::string::npos ? std::string::npos : text.find('%', open + 1);
        if (close == std::string::npos) break;
        out.append(text, pos, open - pos);
        auto it = values.find(text.substr(open + 1, close - open - 1));
        if (it == values.end()) {
            out += '%';  // not a placeholder: keep it, and look for one from the next '%'
            pos = open + 1;
            continue;
        }
        out += it->second;
        pos = close + 1;
    }
    return out.append(text, std::min(pos, text.size()));
}

}  // namespace

std::string option_error_message(const po::error& error) {
    if (const auto* named = dynamic_cast<const po::error_with_option_name*>(&error)) return format(*named);
    return error.what();  // the other errors are fixed texts
}

}  // namespace lxcri
