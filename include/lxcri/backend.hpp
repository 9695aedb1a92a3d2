#pragma once

#include <lxcri/container_spec.hpp>
#include <lxcri/error.hpp>
#include <lxcri/plugin.hpp>
#include <lxcri/types.hpp>

#include <boost/config.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lxcri {

// One container as the core knows it.
struct ContainerRef {
    std::string id;                // OCI container id, already validated
    Vmid vmid = 0;                 // the VMID the core allocated for it
    std::filesystem::path bundle;  // absolute path of the OCI bundle
    // <root>/<id>, mode 0700, made and removed by the core. The backend may
    // keep its own files here (exec fifo, helper files, logs).
    std::filesystem::path dir;
};

// Live status as the backend observes it. pid is the container's init on the
// host (0 when there is none, e.g. stopped or dry-run).
struct ContainerStatus {
    Status status = Status::stopped;
    pid_t pid = 0;
};

struct CreateRequest {
    ContainerRef container;
    const ContainerSpec& spec;
    // The bundle's config.json exactly as the core read, parsed and stored
    // it (<root>/<id>/config.json): what the container is made from. A
    // backend never reads the bundle's file again, which may have changed.
    const std::string& config_json;
    std::optional<std::filesystem::path> console_socket;  // for process.terminal
    // --preserve-fds: descriptors 3 .. 3+preserve_fds-1 of this process are
    // the container process's too (runc's contract). A backend that cannot
    // pass them throws.
    unsigned preserve_fds = 0;
};

struct CreateResult {
    ContainerStatus status;
    // The process to put into --pid-file: a descendant of the caller whose
    // exit status is the container process's. Unset: use status.pid; 0: no
    // process exists (dry-run): the core warns and writes no pid file.
    std::optional<pid_t> pid_file_pid;
    // True when status.pid is the container's init for its whole life,
    // run as init_protocol.hpp says (proxmox-lxcri-init, its rt/ in
    // container.dir). The core then tells the live status from that process
    // and rt/ itself, and does start (release_exec_fifo), kill and ps
    // without loading the plugin (docs/ARCHITECTURE.md, "State"): state(),
    // start(), kill() and processes() are no longer called for this
    // container, but kill() with `all` once the init is gone (what it left
    // behind, as runc signals it).
    bool status_from_init = false;
};

// A process to run in a running container (`exec`).
struct ExecRequest {
    // The process, already validated; the container's seccomp profile and
    // other container-level settings still apply, as with runc.
    const Process& process;
    // The container's config.json with this process in it, as the core
    // built and checked it: what the init helper applies.
    std::string config_json;
    std::optional<std::filesystem::path> console_socket;  // for process.terminal
    bool detach = false;
    unsigned preserve_fds = 0;  // as in CreateRequest
};

struct ExecResult {
    pid_t pid = 0;                 // the process on the host, a child of the caller
    std::optional<int> exit_code;  // set when not detached: its exit status (128 + signal)
};

// How a container is realised (liblxc, a container manager, a dry run ...). One object serves
// one command in one process; calls come from one thread. Every method throws
// lxcri::Error on failure and must leave behind nothing it made in that call.
class BOOST_SYMBOL_VISIBLE Backend {
public:
    virtual ~Backend() = default;

    // VMIDs already used on this host (or cluster), whoever made them.
    virtual std::set<Vmid> vmids_in_use() = 0;

    // Whether one VMID is: what the core asks first, for each of the
    // mapping's first candidates. Override it when one VMID is cheaper to
    // check than all (a create should not grow with the number of
    // containers); the answer must be the same as vmids_in_use()'s.
    virtual bool vmid_in_use(Vmid vmid) { return vmids_in_use().count(vmid) != 0; }

    // Realise the container. Afterwards it exists, its namespaces exist and
    // process.args has NOT run (status created).
    virtual CreateResult create(const CreateRequest& request) = 0;

    // Let process.args run. Only called on a created container.
    virtual void start(const ContainerRef& container) = 0;

    // The live status, derived from the host, not from a cached file.
    virtual ContainerStatus state(const ContainerRef& container) = 0;

    // Send `signal` to the container's init (all = every process in it).
    // With `all` the core calls it for a stopped container too: signal what
    // the init left behind, as runc does (docs/PLUGINS.md).
    virtual void kill(const ContainerRef& container, int signal, bool all) = 0;

    // Remove everything create made for this container, and nothing else.
    // The core calls it for stopped and created containers, and for running
    // ones only with force (kill it first).
    virtual void remove(const ContainerRef& container, bool force) = 0;

    // Optional operations: a backend that cannot do one keeps the default,
    // which says so.

    // Runs a process in the running container (namespaces, cgroup, seccomp).
    virtual ExecResult exec(const ContainerRef& container, const ExecRequest& request) {
        (void)request;
        throw unsupported(container, "exec");
    }
    // Host pids of every process in the container.
    virtual std::vector<pid_t> processes(const ContainerRef& container) { throw unsupported(container, "ps"); }
    virtual void pause(const ContainerRef& container) { throw unsupported(container, "pause"); }
    virtual void resume(const ContainerRef& container) { throw unsupported(container, "resume"); }
    // Applies new limits to the live container (`update --resources`).
    virtual void update(const ContainerRef& container, const Resources& resources) {
        (void)resources;
        throw unsupported(container, "update");
    }

protected:
    static Error unsupported(const ContainerRef& container, const char* operation) {
        return Error(Errc::failed, container.id + ": this backend does not support " + operation);
    }
};

}  // namespace lxcri
