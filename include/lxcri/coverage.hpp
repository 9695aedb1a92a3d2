#pragma once

// Coverage builds (cmake -DLXCRI_COVERAGE=ON, scripts/coverage.sh): gcov
// writes a process's counters when it exits normally, so a process that
// ends with _exit or execve must write them first. flush_coverage() does,
// for the shared object it is compiled into (each has its own counters);
// in every other build it does nothing. Part of the plugin SDK.

#ifdef LXCRI_COVERAGE
extern "C" void __gcov_dump(void);
#endif

namespace lxcri {

inline void flush_coverage() {
#ifdef LXCRI_COVERAGE
    __gcov_dump();
#endif
}

}  // namespace lxcri
