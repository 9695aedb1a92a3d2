#include "util/time.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace lxcri {

std::string rfc3339_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::tm tm{};
    ::gmtime_r(&ts.tv_sec, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
    return buffer;
}

std::chrono::milliseconds process_age(std::uint64_t start_time) {
    timespec now{};
    ::clock_gettime(CLOCK_BOOTTIME, &now);
    long ticks = ::sysconf(_SC_CLK_TCK);
    auto started = std::chrono::milliseconds(start_time * 1000 / static_cast<std::uint64_t>(ticks > 0 ? ticks : 100));
    auto since_boot = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
    return std::chrono::duration_cast<std::chrono::milliseconds>(since_boot) - started;
}

}  // namespace lxcri
