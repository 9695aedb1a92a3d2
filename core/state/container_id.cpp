#include "state/container_id.hpp"

#include <lxcri/error.hpp>

#include <cctype>
#include <string>

namespace lxcri {

void validate_container_id(std::string_view id) {
    auto fail = [&](const std::string& why) {
        std::string shown(id.substr(0, 64));
        if (id.size() > 64) shown += "...";
        throw Error(Errc::invalid_input, "invalid container id '" + shown + "': " + why);
    };
    if (id.empty()) fail("must not be empty");
    if (id.size() > 128) fail("longer than 128 characters");
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(id.front())) fail("must start with a letter or digit");
    for (char c : id)
        if (!alnum(c) && c != '_' && c != '.' && c != '+' && c != '-')
            fail("may contain only letters, digits and _ . + -");
}

}  // namespace lxcri
