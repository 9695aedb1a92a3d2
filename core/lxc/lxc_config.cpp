#include <lxcri/error.hpp>
#include <lxcri/lxc_config.hpp>

#include <linux/magic.h>
#include <sys/vfs.h>

#include <cerrno>

namespace lxcri {

CgroupVersion detect_cgroup_version() {
    struct statfs fs {};
    if (::statfs("/sys/fs/cgroup", &fs) != 0) throw_errno("statfs /sys/fs/cgroup", errno);
    return fs.f_type == CGROUP2_SUPER_MAGIC ? CgroupVersion::v2 : CgroupVersion::v1;
}

std::string to_config_text(const LxcConfig& config) {
    std::string text;
    for (const auto& [key, value] : config) {
        // LXC reads one key per line: a line break would start another key.
        if (key.find_first_of("\n\r") != std::string::npos || value.find_first_of("\n\r") != std::string::npos)
            throw Error(Errc::invalid_input, "lxc config: " + key + ": line break in a key or value");
        text += key + " = " + value + "\n";
    }
    return text;
}

}  // namespace lxcri
