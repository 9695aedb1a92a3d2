#include "util/json.hpp"

#include "util/fs.hpp"

#include <lxcri/error.hpp>

namespace json = boost::json;

namespace lxcri {
namespace {

void pretty(const json::value& value, std::string& out, int indent) {
    auto newline = [&](int level) {
        out += '\n';
        out.append(static_cast<size_t>(level) * 2, ' ');
    };
    switch (value.kind()) {
    case json::kind::object: {
        const auto& object = value.get_object();
        if (object.empty()) {
            out += "{}";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& member : object) {
            if (!first) out += ',';
            first = false;
            newline(indent + 1);
            out += json::serialize(json::value(member.key()));
            out += ": ";
            pretty(member.value(), out, indent + 1);
        }
        newline(indent);
        out += '}';
        return;
    }
    case json::kind::array: {
        const auto& array = value.get_array();
        if (array.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const auto& element : array) {
            if (!first) out += ',';
            first = false;
            newline(indent + 1);
            pretty(element, out, indent + 1);
        }
        newline(indent);
        out += ']';
        return;
    }
    default:
        out += json::serialize(value);
    }
}

}  // namespace

json::value parse_json(std::string_view text, std::string_view what, Errc code) {
    json::stream_parser parser;
    json::error_code ec;
    size_t consumed = parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
        size_t line = 1, column = 1;
        for (size_t i = 0; i < consumed && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        throw Error(code, std::string(what) + ": invalid JSON at line " + std::to_string(line) +
                                             ", column " + std::to_string(column) + ": " + ec.message());
    }
    return parser.release();
}

json::value read_json_file(const std::filesystem::path& path, Errc code) {
    return parse_json(read_file(path), path.string(), code);
}

json::object read_json_object(const std::filesystem::path& path, Errc code) {
    json::value document = read_json_file(path, code);
    if (!document.is_object()) throw Error(code, path.string() + ": must be a JSON object");
    return std::move(document.get_object());
}

std::string to_pretty_json(const json::value& value) {
    std::string out;
    pretty(value, out, 0);
    out += '\n';
    return out;
}

}  // namespace lxcri
