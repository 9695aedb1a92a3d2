#pragma once

#include <boost/config.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace lxcri {

// What went wrong, coarse enough to pick an exit code from (docs/CLI.md).
enum class Errc {
    failed = 1,          // an operation failed for a reason not listed below
    usage = 2,           // bad command line
    invalid_input = 3,   // bad id, bundle, config.json or config file value
    not_found = 4,       // container (or plugin, or file) does not exist
    already_exists = 5,  // container id already in use
    invalid_state = 6,   // container is not in a state that allows the operation
    plugin = 7,          // plugin missing, unloadable or incompatible
    exhausted = 8,       // no free VMID in the configured range
    permission = 9,      // permission denied
    exec_failed = 255,   // exec: the process could not be started (runc's code)
};

// The one exception type of proxmox-lxcri (core and plugins). It carries a
// code and a message; callers on the way up prepend context with
// `with_context`, so main prints a single line such as
// "create c1: config.json: linux.resources.memory.limit: must be >= 0".
class BOOST_SYMBOL_VISIBLE Error : public std::runtime_error {
public:
    Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Error(const Error&) = default;
    Error& operator=(const Error&) = default;
    // Out of line, in liblxcri-core: Error's vtable and typeinfo live in
    // the core, so an Error thrown by a plugin never points into the plugin.
    ~Error() override;

    Errc code() const noexcept { return code_; }

    // A copy of this error with "context: " in front of the message.
    Error with_context(std::string_view context) const {
        return Error(code_, std::string(context) + ": " + what());
    }

private:
    Errc code_;
};

// The message of a failed system call: "<what>: <strerror(errno)>".
std::string errno_message(std::string_view what, int err);

// Throws Error(code) for a failed system call with errno `err`. EACCES and
// EPERM become Errc::permission, ENOENT Errc::not_found unless `code` says otherwise.
[[noreturn]] void throw_errno(std::string_view what, int err, Errc code = Errc::failed);

}  // namespace lxcri
