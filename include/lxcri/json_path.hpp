#pragma once

// How an error message names a field of config.json: its JSON path, such as
// "linux.resources.memory.limit", "mounts[2].destination" or
// `linux.sysctl["net.ipv4.ip_forward"]`. The parser, the translation and
// the backends all name fields this way. Part of the plugin SDK.

#include <cstddef>
#include <string>
#include <string_view>

namespace lxcri {

// "a.b", or "b" when a is the document root ("").
std::string member_path(std::string_view parent, std::string_view key);
// "a[3]"
std::string index_path(std::string_view parent, std::size_t index);
// a["key"], the key JSON-quoted, for maps whose keys may contain dots.
std::string key_path(std::string_view parent, std::string_view key);

}  // namespace lxcri
