#pragma once

// A thin RAII wrapper over liblxc's struct lxc_container: one place that
// knows liblxc's calling conventions.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

struct lxc_container;

namespace lxcri::lxc {

// Loads liblxc now, in this process; errors are left to its first use.
// create calls it before it forks liblxc's monitor, which then finds it
// loaded instead of loading it after the fork, on the way to the
// container's start.
void preload_liblxc();

class Container {
public:
    Container(const std::string& name, const std::filesystem::path& lxcpath);
    ~Container();
    Container(const Container&) = delete;
    Container& operator=(const Container&) = delete;

    bool is_defined() const;
    bool is_running() const;
    std::string state() const;  // "RUNNING", "STOPPED", "FROZEN", ...
    pid_t init_pid() const;     // -1 when not running

    // Runs the container in this process (daemonize off) until it stops;
    // returns the init's wait status.
    int run_in_foreground();

    // Runs `argv` in the container's namespaces and cgroup with the given
    // stdio; returns its pid (a child of this process).
    pid_t attach(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd);

    // Writes a cgroup file of the running container ("memory.max", ...).
    void set_cgroup_item(const std::string& key, const std::string& value);

    bool stop();
    bool freeze();
    bool unfreeze();

private:
    lxc_container* c_;
    std::string name_;
};

}  // namespace lxcri::lxc
