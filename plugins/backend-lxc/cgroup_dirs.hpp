#pragma once

// linux.cgroupsPath on the host, around what liblxc 5 does with it
// (src/lxc/cgroups/cgfsng.c). The translation (core/lxc/cgroups.cpp) names
// the container's cgroup `dir` (lxc.cgroup.dir.container) and its monitor's
// beside it, below a base in every hierarchy: the calling process's own
// cgroup (lxc.cgroup.relative) or init's. liblxc makes each level that is
// missing, but
// - gives only the first level below the base cpuset.cpus and .mems (and
//   cgroup.clone_children, which later levels inherit from then on): a v1
//   cpuset level that exists without them, or one made below such a level,
//   stays empty, and entering it fails with ENOSPC;
// - refuses a container cgroup that exists already (mkdir EEXIST).
// So before liblxc starts, the backend makes the missing levels above the
// container's cgroup itself, copying cpuset.cpus and .mems from the parent
// into every v1 cpuset level that has none (as runc does), and gives an
// existing container cgroup to liblxc to make again: that is possible only
// while it is empty (no process, no child cgroup), and then it is the same
// cgroup to the container, the limits and every later update and pause.
// delete takes away, once liblxc is done, what is left of the container's
// and its monitor's cgroups and the levels the backend made. Below that,
// CgroupMoveWarmup: the cost of liblxc's first cgroup move, taken early.

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace lxcri::lxc {

struct CgroupHierarchy {
    std::filesystem::path base;  // the directory lxc.cgroup.dir.* are relative to
    bool cpuset_v1 = false;      // a v1 hierarchy with the cpuset controller
};

// The hierarchies liblxc uses, from the text of /proc/<pid>/cgroup: this
// process's own (relative, as liblxc then reads /proc/self/cgroup) or
// init's, whose cgroup counts without a last "/init.scope". `root` is where
// the hierarchies are mounted (/sys/fs/cgroup); `unified_root` whether
// `root` is itself the cgroup2 mount (a pure v2 host) rather than having it
// at root/unified (hybrid).
std::vector<CgroupHierarchy> cgroup_hierarchies(const std::string& proc_cgroup, bool relative,
                                                const std::filesystem::path& root, bool unified_root);

// A relative linux.cgroupsPath on a pure v2 host, made absolute as runc
// places it: below the parent of the caller's own cgroup, since the own
// cgroup has processes (the caller's) and v2 lets no such cgroup give
// controllers to its children (liblxc's lxc.cgroup.relative, below the own
// cgroup itself, fails there). The result is relative to init's cgroup
// (without /init.scope), which liblxc takes as the base of absolute paths.
// Any other path (absolute, empty, systemd's slice:prefix:name) and one
// whose parent is not below init's cgroup come back unchanged. `self` and
// `init` are the texts of /proc/self/cgroup and /proc/1/cgroup.
std::string v2_cgroups_path(const std::string& path, const std::string& self, const std::string& init);

// What remove_cgroup_dirs takes away, in order: `tree` a directory with
// the cgroups below it, else the directory alone (a level that other
// containers' cgroups may share: it stays while it has any).
struct MadeCgroup {
    std::filesystem::path path;
    bool tree = false;
};

// Readies the container's cgroup `dir` and its monitor's `monitor_dir`
// (relative paths, as in the LXC config) in every hierarchy whose base
// exists, for liblxc to make them. Checks everything first: a container
// cgroup that exists with processes or child cgroups is an
// Error(invalid_state) naming linux.cgroupsPath, and nothing is changed.
// Then `record` is given what remove_cgroup_dirs must take away, before
// anything is made.
void prepare_cgroup_dirs(const std::vector<CgroupHierarchy>& hierarchies, const std::string& dir,
                         const std::string& monitor_dir,
                         const std::function<void(const std::vector<MadeCgroup>&)>& record);

// Removes each of `made` that is there, in order. A cgroup that still has
// processes (or, for a shared level, other cgroups) stays: logged, not an
// error, as it is someone else's then.
void remove_cgroup_dirs(const std::vector<MadeCgroup>& made);

// The record's text (one "tree <path>" or "dir <path>" a line) and back.
std::string to_text(const std::vector<MadeCgroup>& made);
std::vector<MadeCgroup> made_cgroups_from_text(const std::string& text);

// liblxc's monitor moves itself into its cgroup (lxc.monitor.<name>) as it
// starts a container. The first cgroup migration after an idle spell waits
// for an RCU grace period (the rcu_sync of the kernel's
// cgroup_threadgroup_rwsem: 5-25 ms in create on this host), and the ones
// that follow it closely do not (docs/PERFORMANCE.md). While this object
// lives, a thread of its own makes a migration that changes nothing: it
// writes its own thread id into the `tasks` file of its own cgroup in the
// first hierarchy of `proc_self_cgroup` (cgroup.threads on cgroup v2), so
// that the grace period passes while create does its other work. Only the
// thread itself could move, into the cgroup it is in, and it ends then;
// errors are ignored, as it only saves time. The destructor joins it.
class CgroupMoveWarmup {
public:
    CgroupMoveWarmup(const std::string& proc_self_cgroup, const std::filesystem::path& root, bool unified_root);
    ~CgroupMoveWarmup();
    CgroupMoveWarmup(const CgroupMoveWarmup&) = delete;
    CgroupMoveWarmup& operator=(const CgroupMoveWarmup&) = delete;

    // Waits for the thread.
    void join();
    // The file written to, empty when there was none to write.
    const std::filesystem::path& file() const { return file_; }
    // After join(): the thread id written, empty when the write failed.
    const std::string& written() const { return written_; }

private:
    std::filesystem::path file_;
    std::string written_;
    std::thread thread_;  // last: it starts once the rest is there
};

}  // namespace lxcri::lxc
