#include "cgroup_dirs.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/log.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {

constexpr std::string_view field = "linux.cgroupsPath";

// liblxc's names for the mount directory of a v1 hierarchy (stable_order,
// unprefix in cgfsng.c).
std::string mount_name(const std::string& controllers) {
    if (controllers == "cpuacct,cpu") return "cpu,cpuacct";
    if (controllers == "net_prio,net_cls") return "net_cls,net_prio";
    if (controllers.starts_with("name=")) return controllers.substr(5);
    return controllers;
}

bool has_controller(const std::string& controllers, std::string_view name) {
    return ("," + controllers + ",").find("," + std::string(name) + ",") != std::string::npos;
}

std::vector<std::string> levels(const std::string& dir) {
    std::vector<std::string> parts;
    std::istringstream in(dir);
    for (std::string part; std::getline(in, part, '/');)
        if (!part.empty()) parts.push_back(part);
    return parts;
}

bool is_dir(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<fs::path> child_cgroups(const fs::path& dir) {
    std::vector<fs::path> children;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && !it->is_symlink(ec)) children.push_back(it->path());
    return children;
}

// A cgroup file takes one write(2) in place (write_file_atomic renames).
void write_cgroup_file(const fs::path& file, const std::string& value) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno(std::string(field) + ": open " + file.string(), errno);
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n != static_cast<ssize_t>(value.size()))
        throw_errno(std::string(field) + ": write " + value + " to " + file.string(), n < 0 ? errno : EIO);
}

// runc's cpusetCopyIfNeeded: a v1 cpuset level without cpus or mems gets
// its parent's, or no task can enter it (or anything below it).
void copy_cpuset_if_empty(const fs::path& dir) {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        if (!read_first_line(dir / file).empty()) continue;
        std::string value = read_first_line(dir.parent_path() / file);
        if (value.empty()) throw Error(Errc::failed, std::string(field) + ": " + (dir.parent_path() / file).string() +
                                                         " is empty: no cpuset to copy into " + dir.string());
        write_cgroup_file(dir / file, value);
    }
}

}  // namespace

std::vector<CgroupHierarchy> cgroup_hierarchies(const std::string& proc_cgroup, bool relative, const fs::path& root,
                                                bool unified_root) {
    std::vector<CgroupHierarchy> hierarchies;
    std::istringstream lines(proc_cgroup);
    for (std::string line; std::getline(lines, line);) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::string path = line.substr(second + 1);
        if (!path.starts_with("/")) continue;
        if (!relative && path.ends_with("/init.scope")) path.erase(path.size() - std::string_view("/init.scope").size());
        fs::path relative_path = fs::path(path).relative_path();
        if (line.starts_with("0::")) {
            hierarchies.push_back({(unified_root ? root : root / "unified") / relative_path, false});
        } else if (!controllers.empty() && !unified_root) {
            hierarchies.push_back({root / mount_name(controllers) / relative_path, has_controller(controllers, "cpuset")});
        }
    }
    return hierarchies;
}

std::string v2_cgroups_path(const std::string& path, const std::string& self, const std::string& init) {
    if (path.empty() || path.front() == '/' || path.find(':') != std::string::npos) return path;
    auto unified = [](const std::string& text) -> std::optional<fs::path> {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with("0::/")) return fs::path(line.substr(3));
        return std::nullopt;
    };
    auto own = unified(self), base = unified(init);
    if (!own || !base) return path;
    if (base->filename() == "init.scope") base = base->parent_path();
    fs::path parent = own->parent_path();
    auto below = parent.lexically_relative(*base);
    if (below.empty() || *below.begin() == "..") return path;
    return (below == "." ? std::string() : "/" + below.string()) + "/" + path;
}

void prepare_cgroup_dirs(const std::vector<CgroupHierarchy>& hierarchies, const std::string& dir,
                         const std::string& monitor_dir,
                         const std::function<void(const std::vector<MadeCgroup>&)>& record) {
    const std::vector<std::string> parts = levels(dir);
    if (parts.empty()) throw Error(Errc::invalid_input, std::string(field) + ": names no cgroup");
    struct Plan {
        const CgroupHierarchy* hierarchy;
        std::vector<fs::path> missing;  // levels above the container's cgroup, outermost first
        bool container_exists = false;
    };
    std::vector<Plan> plans;
    // Everything is checked before anything changes.
    for (const auto& h : hierarchies) {
        if (!is_dir(h.base)) continue;  // as liblxc: a hierarchy without our base is not used
        Plan plan{&h, {}, false};
        fs::path level = h.base;
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            level /= parts[i];
            if (!is_dir(level)) plan.missing.push_back(level);
        }
        fs::path container = h.base / dir;
        plan.container_exists = is_dir(container);
        if (plan.container_exists) {
            std::string procs = read_file(container / "cgroup.procs");
            if (procs.find_first_not_of(" \n") != std::string::npos)
                throw Error(Errc::invalid_state, std::string(field) + ": " + container.string() +
                                                     " exists and has processes; a container's cgroup must be empty");
            if (!child_cgroups(container).empty())
                throw Error(Errc::invalid_state, std::string(field) + ": " + container.string() +
                                                     " exists and has child cgroups; liblxc can take over only an "
                                                     "empty cgroup for a container");
        }
        plans.push_back(std::move(plan));
    }

    std::vector<MadeCgroup> made;
    for (const auto& plan : plans) {
        made.push_back({plan.hierarchy->base / monitor_dir, true});
        made.push_back({plan.hierarchy->base / dir, true});
    }
    for (const auto& plan : plans)
        for (auto it = plan.missing.rbegin(); it != plan.missing.rend(); ++it) made.push_back({*it, false});
    record(made);

    for (const auto& plan : plans) {
        const auto& h = *plan.hierarchy;
        fs::path level = h.base;
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            level /= parts[i];
            if (::mkdir(level.c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno(std::string(field) + ": create cgroup " + level.string(), errno);
            if (h.cpuset_v1) copy_cpuset_if_empty(level);
        }
        // liblxc makes the container's and the monitor's cgroups below the
        // last level: with clone_children set there they get its cpuset.
        if (h.cpuset_v1 && parts.size() > 1 && read_first_line(level / "cgroup.clone_children") != "1")
            write_cgroup_file(level / "cgroup.clone_children", "1");
        // An existing, empty container cgroup: liblxc makes it again.
        if (plan.container_exists && ::rmdir((h.base / dir).c_str()) != 0)
            throw_errno(std::string(field) + ": take over the existing cgroup " + (h.base / dir).string(), errno);
    }
}

void remove_cgroup_dirs(const std::vector<MadeCgroup>& made) {
    // Deepest first, as rmdir takes only an empty cgroup.
    std::function<bool(const fs::path&, bool)> remove = [&](const fs::path& dir, bool tree) {
        if (tree)
            for (const auto& child : child_cgroups(dir)) remove(child, true);
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        log::info("left cgroup " + dir.string() + ": " + errno_message("rmdir", errno));
        return false;
    };
    for (const auto& m : made) remove(m.path, m.tree);
}

std::string to_text(const std::vector<MadeCgroup>& made) {
    std::string text;
    for (const auto& m : made) text += (m.tree ? "tree " : "dir ") + m.path.string() + "\n";
    return text;
}

std::vector<MadeCgroup> made_cgroups_from_text(const std::string& text) {
    std::vector<MadeCgroup> made;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("tree /"))
            made.push_back({line.substr(5), true});
        else if (line.starts_with("dir /"))
            made.push_back({line.substr(4), false});
    }
    return made;
}

CgroupMoveWarmup::CgroupMoveWarmup(const std::string& proc_self_cgroup, const fs::path& root, bool unified_root) {
    auto hierarchies = cgroup_hierarchies(proc_self_cgroup, true, root, unified_root);
    if (hierarchies.empty()) return;
    const fs::path& own = hierarchies.front().base;
    std::error_code ec;
    file_ = fs::exists(own / "tasks", ec) ? own / "tasks" : own / "cgroup.threads";
    thread_ = std::thread([this, file = file_.string()] {
        // Its own id, not "0": the kernel takes the lock whose grace period
        // this is about only for a migration that names a thread or process
        // (a "0" in `tasks` changes nothing and costs nothing).
        std::string id = std::to_string(::gettid());
        int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return;
        if (::write(fd, id.data(), id.size()) == static_cast<ssize_t>(id.size())) written_ = id;
        ::close(fd);
    });
}

CgroupMoveWarmup::~CgroupMoveWarmup() { join(); }

void CgroupMoveWarmup::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace lxcri::lxc
