#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lxcri {

// Now as RFC 3339 in UTC with nanoseconds: 2026-01-02T03:04:05.123456789Z.
std::string rfc3339_now();

// How long ago a process started whose start time (process_start_time:
// clock ticks after boot) is `start_time`.
std::chrono::milliseconds process_age(std::uint64_t start_time);

}  // namespace lxcri
