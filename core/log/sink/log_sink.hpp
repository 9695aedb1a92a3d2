#pragma once

// The interface of log-sink.so (boost_log_sink.cpp), the module that holds
// the Boost.Log sink; core/log/logging.cpp loads it at the first message.

#include <lxcri/log.hpp>

#include <cstddef>

#define LXCRI_LOG_SINK_EXPORT __attribute__((visibility("default")))

extern "C" {
// Makes the sink, replacing the one before: to `fd` (owned from now on) as
// text lines with the time, or to stderr (fd < 0) as "proxmox-lxcri: ..."
// lines; json: {"level","msg","time"} lines either way; debug: debug
// messages too.
using lxcri_log_sink_open_fn = void (*)(int fd, int json, int debug);
// One message of `level` (lxcri::log::Level), written at `time` (RFC 3339).
using lxcri_log_sink_write_fn = void (*)(int level, const char* message, std::size_t size, const char* time);
}
