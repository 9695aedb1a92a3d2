#pragma once

#include <string_view>

namespace lxcri {

// "9", "KILL" or "SIGKILL" (any case) -> 9. Error(invalid_input) otherwise.
int parse_signal(std::string_view text);

}  // namespace lxcri
