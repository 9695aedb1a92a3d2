#include "init_client/init_status.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/process.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {
namespace {

// A file of /proc or /sys that may be gone: "" then.
std::string read_if_there(const fs::path& path) {
    try {
        return read_file(path);
    } catch (const Error&) {
        return {};
    }
}

// The init's freezer state: v1's freezer.state is the effective state
// (the cgroup's own and its parents'); v2's cgroup.events says "frozen 1"
// once the cgroup or a parent is frozen.
bool frozen(pid_t pid) {
    std::istringstream lines(read_if_there("/proc/" + std::to_string(pid) + "/cgroup"));
    std::string v2_path;
    for (std::string line; std::getline(lines, line);) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
        std::string path = line.substr(second + 1);
        if (controllers.find(",freezer,") != std::string::npos) {
            std::string state = read_first_line(fs::path("/sys/fs/cgroup/freezer") / fs::path(path).relative_path() /
                                                "freezer.state");
            return state == "FROZEN" || state == "FREEZING";
        }
        if (controllers == ",," && line.starts_with("0:")) v2_path = path;
    }
    if (v2_path.empty()) return false;
    std::error_code ec;
    fs::path base = fs::exists("/sys/fs/cgroup/cgroup.controllers", ec) ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    std::istringstream events(read_if_there(base / fs::path(v2_path).relative_path() / "cgroup.events"));
    for (std::string line; std::getline(events, line);)
        if (line == "frozen 1") return true;
    return false;
}

}  // namespace

ContainerStatus init_status(const fs::path& container_dir, pid_t pid, std::uint64_t start_time) {
    if (process_start_time(pid) != start_time) return {Status::stopped, 0};
    std::error_code ec;
    if (fs::exists(container_dir / proto::host_subdir / proto::exec_fifo, ec)) return {Status::created, pid};
    return {frozen(pid) ? Status::paused : Status::running, pid};
}

}  // namespace lxcri
