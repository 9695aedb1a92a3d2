// The small checks the parser's sections share (sections.hpp).

#include "oci/sections.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <system_error>

namespace json = boost::json;

namespace lxcri::oci::detail {

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

std::string quote(std::string_view text) { return json::serialize(json::string(text)); }

// "must be one of a, b, c" for short closed sets, naming the value found.
std::string one_of(std::span<const std::string_view> names, std::string_view got) {
    std::string message = "must be one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) message += ", ";
        message += names[i];
    }
    return message + " (got " + quote(got) + ")";
}

// "NAME=value" with a non-empty NAME, as execve(2) callers expect.
bool is_env_entry(std::string_view entry) {
    auto eq = entry.find('=');
    return eq != std::string_view::npos && eq > 0;
}

// A cpuset list such as "0-3,7" (cpuset(7)); empty means unset.
bool is_cpu_list(std::string_view list) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return s;
    };
    auto number = [](std::string_view s, unsigned& out) {
        if (s.empty()) return false;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && end == s.data() + s.size();
    };
    if (trim(list).empty()) return true;
    while (true) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        auto dash = item.find('-');
        unsigned first = 0, last = 0;
        if (dash == std::string_view::npos) {
            if (!number(item, first)) return false;
        } else if (!number(trim(item.substr(0, dash)), first) ||
                   !number(trim(item.substr(dash + 1)), last) || last < first) {
            return false;
        }
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

// "2MB", "64KB", "1GB": <size><unit-prefix>B as the kernel names hugepage sizes.
bool is_page_size(std::string_view size) {
    if (size.size() < 3 || size.back() != 'B') return false;
    char unit = size[size.size() - 2];
    if (unit != 'K' && unit != 'M' && unit != 'G') return false;
    auto digits = size.substr(0, size.size() - 2);
    if (digits.front() == '0') return false;
    for (char c : digits)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string check_absolute(const std::string& path) {
    return is_absolute(path) ? "" : "must be an absolute path";
}

std::string check_env(const std::string& entry) {
    return is_env_entry(entry) ? "" : "must have the form NAME=value";
}

// A string member that must be one of `names`; true when it is.
bool read_name(const Fields& fields, std::string_view key, std::string& out,
               std::span<const std::string_view> names, std::string_view what) {
    if (!fields.read(key, out)) return false;
    if (contains(names, out)) return true;
    if (names.size() <= 8)
        fields.add(key, one_of(names, out));
    else
        fields.add(key, "unknown " + std::string(what) + " " + quote(out));
    return false;
}

}  // namespace lxcri::oci::detail
