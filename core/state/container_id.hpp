#pragma once

#include <string_view>

namespace lxcri {

// Container ids match ^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$ (as runc's, with a
// length limit); an id is checked before it becomes part of any path.
// Throws Error(invalid_input) naming the id and the rule.
void validate_container_id(std::string_view id);

}  // namespace lxcri
