#pragma once

#include <string>

namespace lxcri {

// Now as RFC 3339 in UTC with nanoseconds: 2026-01-02T03:04:05.123456789Z.
std::string rfc3339_now();

}  // namespace lxcri
