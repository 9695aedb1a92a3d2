#include <lxcri/error.hpp>
#include <lxcri/lxc_config.hpp>

#include <linux/magic.h>
#include <sys/vfs.h>

#include <cerrno>

namespace lxcri {
namespace {

// fstab escapes, as getmntent(3) reads them (LXC reads its mount entries so).
std::string escape(std::string_view field) {
    std::string out;
    for (char c : field) {
        switch (c) {
        case ' ': out += "\\040"; break;
        case '\t': out += "\\011"; break;
        case '\n': out += "\\012"; break;
        case '\\': out += "\\134"; break;
        default: out += c;
        }
    }
    return out;
}

}  // namespace

std::string mount_entry(std::string_view source, std::string_view target, std::string_view type,
                        const std::vector<std::string>& options) {
    std::string joined;
    for (const auto& option : options) joined += (joined.empty() ? "" : ",") + option;
    if (joined.empty()) joined = "defaults";
    return escape(source) + " " + escape(target) + " " + std::string(type) + " " + escape(joined) + " 0 0";
}

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
