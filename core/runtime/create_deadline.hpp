#pragma once

// The deadline of a create (config key create-timeout).
//
// A create can get stuck where no timeout of ours reaches: in the kernel on
// a hung NFS or FUSE path, in a hook without a timeout, in a liblxc call. A
// watchdog thread waits for the deadline; past it, it replaces this process
// by a fresh image of itself (execve of /proc/self/exe, same arguments),
// told through the environment to undo the create. The exec ends every
// thread of the old image, a stuck one too (those waits end on SIGKILL), and
// closes the container's lock; the new image removes what the create made,
// as `delete --force` does after a killed create, and fails with one error
// naming the step that did not finish. The caller sees the same process and
// one exit status.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lxcri {

class CreateDeadline {
public:
    CreateDeadline(std::string id, std::chrono::seconds timeout);
    // Stops the watchdog. Once it has fired, this waits for the exec,
    // which ends this image: a create that finished too late is undone.
    ~CreateDeadline();
    CreateDeadline(const CreateDeadline&) = delete;
    CreateDeadline& operator=(const CreateDeadline&) = delete;

    // What the create does now, for the message.
    void step(std::string name);
    // From here on <root>/<id> is this create's: past the deadline it is
    // removed. Before, nothing was made, and nothing is removed.
    void claimed();

    // In the image the watchdog started: what it must undo (the variable
    // is read once and cleared).
    struct Undo {
        std::string id;
        bool claimed = false;
        std::string message;  // "<id>: create did not finish within N s (step: ...)"
    };
    static std::optional<Undo> take_undo();

private:
    void watch();
    [[noreturn]] void undo_in_new_image();

    std::string id_;
    std::chrono::seconds timeout_;
    std::chrono::steady_clock::time_point deadline_;
    std::vector<std::string> argv_;  // this process's, read before anything can get stuck
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    bool claimed_ = false;
    std::string step_ = "start";
    std::thread thread_;
};

}  // namespace lxcri
