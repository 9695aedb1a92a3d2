#pragma once

// Undoes the steps of an operation that did not finish, newest first. Each
// step that made something registers, right after it succeeded, how to
// remove it; commit() keeps everything once the operation has succeeded.
// Used by the core's create and by every backend's create, so that a failed
// create leaves nothing behind. Part of the plugin SDK.

#include <lxcri/log.hpp>

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lxcri {

class Undo {
public:
    // `what` starts the warning logged for a step that fails ("<what>: <why>");
    // the other steps still run, and the error that started the undo is the
    // one reported.
    explicit Undo(std::string what) : what_(std::move(what)) {}
    ~Undo() {
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            try {
                (*it)();
            } catch (const std::exception& e) {
                log::warning(what_ + ": " + e.what());
            }
        }
    }
    Undo(const Undo&) = delete;
    Undo& operator=(const Undo&) = delete;

    void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
    void commit() noexcept { steps_.clear(); }

private:
    std::string what_;
    std::vector<std::function<void()>> steps_;
};

}  // namespace lxcri
