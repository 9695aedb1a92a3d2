#include "log/logging.hpp"

#include "log/sink/log_sink.hpp"
#include "util/fs.hpp"
#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>
#include <lxcri/shared_library.hpp>
#include <lxcri/unique_fd.hpp>

#include <dlfcn.h>
#include <link.h>
#include <fcntl.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>

namespace fs = std::filesystem;

namespace lxcri::log {
namespace {

std::atomic<bool> debug_on{false};
bool logging_to_file = false;
bool timed = false;  // the sink writes the time (json, or a file)

// log-sink.so, the Boost.Log sink, beside the core:
// <libdir>/proxmox-lxcri/log-sink.so for <libdir>/liblxcri-core.so. Where
// the core is linked into the executable (the static proxmox-lxcri), that
// libdir is found from the executable's directory.
struct SinkModule {
    lxcri_log_sink_open_fn open = nullptr;
    lxcri_log_sink_write_fn write = nullptr;
};

fs::path sink_path() {
    Dl_info info{};
    link_map* object = nullptr;
    if (!::dladdr1(reinterpret_cast<void*>(&sink_path), &info, reinterpret_cast<void**>(&object), RTLD_DL_LINKMAP) ||
        !object)
        throw Error(Errc::failed, "cannot find liblxcri-core to load its log sink");
    // The executable's own link map has an empty name.
    if (!object->l_name || !*object->l_name) return program_relative_dir(LXCRI_LOG_SINK_RELDIRS) / "log-sink.so";
    std::error_code ec;
    fs::path core = fs::canonical(object->l_name, ec);
    return (ec ? fs::path(object->l_name) : core).parent_path() / "proxmox-lxcri" / "log-sink.so";
}

const SinkModule& sink_module() {
    static const SinkModule module = [] {
        fs::path path = sink_path();
        static const SharedLibrary library(path.string());
        SinkModule loaded;
        library.bind("lxcri_log_sink_open", loaded.open);
        library.bind("lxcri_log_sink_write", loaded.write);
        return loaded;
    }();
    return module;
}

// What the sink is to be until it is made: it is made at the first
// message rather than by init(), because most commands log nothing and
// main configures twice (before and after the config file).
struct Pending {
    Options options;
    UniqueFd file;  // --log, opened by init(); none: stderr
};
std::mutex mutex;
std::optional<Pending> pending = Pending{};
// Why the sink could not be loaded, once it failed: messages then go to
// stderr as they are.
std::optional<std::string> broken;

// Close-on-exec: hooks, the commands a backend runs and the container
// must not inherit the log file.
UniqueFd open_file(const Options& options) {
    if (!options.file) return UniqueFd();
    UniqueFd fd(::open(options.file->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw_errno("open log file " + options.file->string(), errno, Errc::invalid_input);
    return fd;
}

// Under `mutex`: the sink of the pending options, made.
void install_pending() {
    if (!pending || broken) return;
    try {
        const SinkModule& module = sink_module();
        int fd = pending->file ? pending->file.release() : -1;
        timed = pending->options.format == "json" || fd >= 0;
        module.open(fd, pending->options.format == "json", pending->options.debug);
        pending.reset();
    } catch (const Error& e) {
        broken = e.what();
        std::cerr << "proxmox-lxcri: error: " << *broken << " (messages follow as they are)" << std::endl;
    }
}

}  // namespace

void init(const Options& options) {
    // The file is opened now, so that a bad --log fails here.
    UniqueFd file = open_file(options);
    std::lock_guard lock(mutex);
    pending = Pending{options, std::move(file)};
    debug_on = options.debug;
    logging_to_file = options.file.has_value();
}

void write(Level level, std::string_view message) {
    if (level == Level::debug && !debug_on) return;
    std::lock_guard lock(mutex);
    install_pending();
    if (broken) {
        std::cerr << "proxmox-lxcri: " << message << std::endl;
        return;
    }
    sink_module().write(static_cast<int>(level), message.data(), message.size(),
                        timed ? rfc3339_now().c_str() : "");
}

bool debug_enabled() { return debug_on; }

void failure(const std::string& message) {
    write(Level::error, message);
    if (logging_to_file) std::cerr << "proxmox-lxcri: error: " << message << std::endl;
}

}  // namespace lxcri::log
