#include "init/settings.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <utility>

namespace lxcri::init {
namespace {

using namespace std::string_view_literals;

constexpr std::array<std::pair<std::string_view, int>, 16> rlimits = {{
    {"RLIMIT_AS"sv, RLIMIT_AS},         {"RLIMIT_CORE"sv, RLIMIT_CORE},       {"RLIMIT_CPU"sv, RLIMIT_CPU},
    {"RLIMIT_DATA"sv, RLIMIT_DATA},     {"RLIMIT_FSIZE"sv, RLIMIT_FSIZE},     {"RLIMIT_LOCKS"sv, RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK"sv, RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE"sv, RLIMIT_MSGQUEUE}, {"RLIMIT_NICE"sv, RLIMIT_NICE},
    {"RLIMIT_NOFILE"sv, RLIMIT_NOFILE}, {"RLIMIT_NPROC"sv, RLIMIT_NPROC},     {"RLIMIT_RSS"sv, RLIMIT_RSS},
    {"RLIMIT_RTPRIO"sv, RLIMIT_RTPRIO}, {"RLIMIT_RTTIME"sv, RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING"sv, RLIMIT_SIGPENDING},
    {"RLIMIT_STACK"sv, RLIMIT_STACK},
}};

// sched(7); SCHED_ISO is reserved and refused by the kernel.
constexpr std::array<std::pair<std::string_view, int>, 7> sched_policies = {{
    {"SCHED_OTHER"sv, 0}, {"SCHED_FIFO"sv, 1}, {"SCHED_RR"sv, 2}, {"SCHED_BATCH"sv, 3},
    {"SCHED_ISO"sv, 4},   {"SCHED_IDLE"sv, 5}, {"SCHED_DEADLINE"sv, 6},
}};

constexpr std::array<std::pair<std::string_view, std::uint64_t>, 7> sched_flags = {{
    {"SCHED_FLAG_RESET_ON_FORK"sv, 0x01}, {"SCHED_FLAG_RECLAIM"sv, 0x02},     {"SCHED_FLAG_DL_OVERRUN"sv, 0x04},
    {"SCHED_FLAG_KEEP_POLICY"sv, 0x08},   {"SCHED_FLAG_KEEP_PARAMS"sv, 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN"sv, 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX"sv, 0x40},
}};

constexpr std::array<std::pair<std::string_view, int>, 3> io_classes = {{
    {"IOPRIO_CLASS_RT"sv, 1}, {"IOPRIO_CLASS_BE"sv, 2}, {"IOPRIO_CLASS_IDLE"sv, 3},
}};

template <class Table>
auto lookup(const Table& table, std::string_view name, decltype(table[0].second) missing) {
    for (const auto& [key, value] : table)
        if (key == name) return value;
    return missing;
}

// sched_setattr(2)'s struct, which glibc 2.36 does not declare (SCHED_ATTR_SIZE_VER0).
struct SchedAttr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
};

void write_proc(const char* path, std::string_view text, const std::string& field) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(field + ": open " + path, errno);
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size())) throw_errno(field + ": write " + path, n < 0 ? err : EIO);
}

bool path_exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

}  // namespace

int rlimit_resource(std::string_view name) { return lookup(rlimits, name, -1); }
int sched_policy(std::string_view name) { return lookup(sched_policies, name, -1); }
std::uint64_t sched_flag(std::string_view name) { return lookup(sched_flags, name, std::uint64_t{0}); }
int io_priority_class(std::string_view name) { return lookup(io_classes, name, -1); }

std::vector<unsigned> parse_cpu_list(std::string_view list) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return s;
    };
    auto number = [](std::string_view s) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc() || end != s.data() + s.size())
            throw Error(Errc::invalid_input, "bad CPU number \"" + std::string(s) + "\"");
        return value;
    };
    std::vector<unsigned> cpus;
    if (trim(list).empty()) return cpus;
    while (true) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        auto dash = item.find('-');
        unsigned first = number(trim(item.substr(0, dash)));
        unsigned last = dash == std::string_view::npos ? first : number(trim(item.substr(dash + 1)));
        for (unsigned cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
        if (comma == std::string_view::npos) return cpus;
        list.remove_prefix(comma + 1);
    }
}

std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name) {
    std::optional<std::string> value;
    for (const auto& entry : env) {
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
            value = entry.substr(name.size() + 1);
    }
    return value;
}

std::string home_for_uid(std::string_view passwd, std::uint32_t uid) {
    // name:password:uid:gid:gecos:home:shell
    while (!passwd.empty()) {
        auto eol = passwd.find('\n');
        std::string_view line = passwd.substr(0, eol);
        passwd = eol == std::string_view::npos ? std::string_view() : passwd.substr(eol + 1);
        std::array<std::string_view, 7> fields{};
        std::size_t count = 0;
        while (count < fields.size()) {
            auto colon = line.find(':');
            fields[count++] = line.substr(0, colon);
            if (colon == std::string_view::npos) break;
            line.remove_prefix(colon + 1);
        }
        if (count < 6) continue;
        std::uint32_t entry_uid = 0;
        auto [end, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), entry_uid);
        if (ec != std::errc() || end != fields[2].data() + fields[2].size() || entry_uid != uid) continue;
        return fields[5].empty() ? "/" : std::string(fields[5]);
    }
    return "/";
}

bool apparmor_enabled() {
    try {
        return read_file("/sys/module/apparmor/parameters/enabled").starts_with('Y');
    } catch (const Error&) {
        return false;
    }
}

void make_terminal(const std::filesystem::path& socket) {
    UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) throw_errno("process.terminal: open /dev/ptmx", errno);
    if (::unlockpt(master.get()) != 0) throw_errno("process.terminal: unlock the pty", errno);
    // The slave through the master, not by a path that could lead elsewhere.
    UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) throw_errno("process.terminal: open the pty's slave", errno);
    try {
        UniqueFd sock = connect_unix(socket);
        send_fd(sock.get(), master.get(), "ptmx");
    } catch (const Error& e) {
        throw Error(Errc::failed, std::string("process.terminal: ") + e.what());
    }
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(slave.get(), fd) < 0) throw_errno("process.terminal: dup2", errno);
}

void set_controlling_terminal(const Process& process) {
    // make_terminal made stdin the pty's slave. A session leader already
    // (liblxc may have called setsid for the container's init) is fine.
    if (::setsid() < 0 && ::getsid(0) != ::getpid()) throw_errno("process.terminal: setsid", errno);
    if (::ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0 && ::tcgetsid(STDIN_FILENO) != ::getsid(0))
        throw_errno("process.terminal: make stdin the controlling terminal", errno);
    if (process.console_size) {
        winsize size{};
        size.ws_row = static_cast<unsigned short>(process.console_size->height);
        size.ws_col = static_cast<unsigned short>(process.console_size->width);
        if (::ioctl(STDIN_FILENO, TIOCSWINSZ, &size) < 0) throw_errno("process.consoleSize: TIOCSWINSZ", errno);
    }
}

void set_rlimits(const std::vector<Rlimit>& limits) {
    for (std::size_t i = 0; i < limits.size(); ++i) {
        const auto& limit = limits[i];
        std::string field = "process.rlimits[" + std::to_string(i) + "]";
        int resource = rlimit_resource(limit.type);
        if (resource < 0) throw Error(Errc::invalid_input, field + ": unknown rlimit " + limit.type);
        // RLIM_INFINITY is ~0 on Linux: the spec's uint64 maps one to one.
        rlimit value{static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
        if (::setrlimit(resource, &value) != 0) throw_errno(field + ": setrlimit " + limit.type, errno);
    }
}

void set_oom_score_adj(int value) {
    write_proc("/proc/self/oom_score_adj", std::to_string(value), "process.oomScoreAdj");
}

void set_cpu_affinity(const CpuAffinity& affinity) {
    // "initial" is for the time before the process joins the container's
    // cgroup; the helper is in it already, so only "final" is its business.
    auto cpus = parse_cpu_list(affinity.final);
    if (cpus.empty()) return;
    unsigned max = 0;
    for (unsigned cpu : cpus) max = std::max(max, cpu);
    std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set(CPU_ALLOC(max + 1), [](cpu_set_t* s) { CPU_FREE(s); });
    if (!set) throw_errno("process.execCPUAffinity.final", errno);
    std::size_t size = CPU_ALLOC_SIZE(max + 1);
    CPU_ZERO_S(size, set.get());
    for (unsigned cpu : cpus) CPU_SET_S(cpu, size, set.get());
    if (::sched_setaffinity(0, size, set.get()) != 0)
        throw_errno("process.execCPUAffinity.final: sched_setaffinity " + affinity.final, errno);
}

void set_memory_policy(const MemoryPolicy& policy) {
    constexpr std::array<std::pair<std::string_view, int>, 7> modes = {{
        {"MPOL_DEFAULT"sv, 0}, {"MPOL_PREFERRED"sv, 1}, {"MPOL_BIND"sv, 2}, {"MPOL_INTERLEAVE"sv, 3},
        {"MPOL_LOCAL"sv, 4}, {"MPOL_PREFERRED_MANY"sv, 5}, {"MPOL_WEIGHTED_INTERLEAVE"sv, 6},
    }};
    constexpr std::array<std::pair<std::string_view, int>, 3> flags = {{
        {"MPOL_F_NUMA_BALANCING"sv, 1 << 13}, {"MPOL_F_RELATIVE_NODES"sv, 1 << 14}, {"MPOL_F_STATIC_NODES"sv, 1 << 15},
    }};
    int mode = lookup(modes, policy.mode, -1);
    if (mode < 0) throw Error(Errc::invalid_input, "linux.memoryPolicy.mode: unknown mode " + policy.mode);
    for (const auto& name : policy.flags) {
        int flag = lookup(flags, name, 0);
        if (flag == 0) throw Error(Errc::invalid_input, "linux.memoryPolicy.flags: unknown flag " + name);
        mode |= flag;
    }
    // A node mask as set_mempolicy(2) takes it: one bit per node, in longs.
    std::vector<unsigned long> mask;
    unsigned long max_node = 0;
    for (unsigned node : parse_cpu_list(policy.nodes)) {
        constexpr unsigned bits = 8 * sizeof(unsigned long);
        if (mask.size() <= node / bits) mask.resize(node / bits + 1, 0);
        mask[node / bits] |= 1UL << (node % bits);
        max_node = std::max<unsigned long>(max_node, node + 1);
    }
    if (::syscall(SYS_set_mempolicy, mode, mask.empty() ? nullptr : mask.data(), mask.empty() ? 0 : max_node + 1) != 0)
        throw_errno("linux.memoryPolicy: set_mempolicy " + policy.mode + " " + policy.nodes, errno);
}

void set_io_priority(const IoPriority& priority) {
    int io_class = io_priority_class(priority.io_class);
    if (io_class < 0) throw Error(Errc::invalid_input, "process.ioPriority.class: unknown class " + priority.io_class);
    constexpr int who_process = 1;  // IOPRIO_WHO_PROCESS
    long value = (static_cast<long>(io_class) << 13) | priority.priority;
    if (::syscall(SYS_ioprio_set, who_process, 0, value) != 0) throw_errno("process.ioPriority: ioprio_set", errno);
}

void set_scheduler(const Scheduler& scheduler) {
    int policy = sched_policy(scheduler.policy);
    if (policy < 0) throw Error(Errc::invalid_input, "process.scheduler.policy: unknown policy " + scheduler.policy);
    SchedAttr attr{};
    attr.size = sizeof attr;
    attr.sched_policy = static_cast<std::uint32_t>(policy);
    for (const auto& name : scheduler.flags) {
        std::uint64_t flag = sched_flag(name);
        if (flag == 0) throw Error(Errc::invalid_input, "process.scheduler.flags: unknown flag " + name);
        attr.sched_flags |= flag;
    }
    attr.sched_nice = scheduler.nice;
    attr.sched_priority = static_cast<std::uint32_t>(scheduler.priority);
    attr.sched_runtime = scheduler.runtime;
    attr.sched_deadline = scheduler.deadline;
    attr.sched_period = scheduler.period;
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
        throw_errno("process.scheduler: sched_setattr " + scheduler.policy, errno);
}

void set_personality(const Personality& personality) {
    // The spec defines no flags yet: any flag is one we cannot apply.
    if (!personality.flags.empty())
        throw Error(Errc::invalid_input, "linux.personality.flags: unknown flag " + personality.flags.front());
    unsigned long domain = personality.domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
    if (::personality(domain) < 0) throw_errno("linux.personality: " + personality.domain, errno);
}

void set_environment(const Process& process) {
    if (::clearenv() != 0) throw Error(Errc::failed, "process.env: clearenv failed");
    for (const auto& entry : process.env) {
        auto eq = entry.find('=');
        if (::setenv(entry.substr(0, eq).c_str(), entry.c_str() + eq + 1, 1) != 0)
            throw_errno("process.env: setenv " + entry.substr(0, eq), errno);
    }
    const char* home = std::getenv("HOME");
    if (home && *home) return;
    std::string passwd;
    try {
        passwd = read_file("/etc/passwd");
    } catch (const Error&) {
        // No passwd in the rootfs: HOME=/ as for an unlisted uid.
    }
    if (::setenv("HOME", home_for_uid(passwd, process.user.uid).c_str(), 1) != 0) throw_errno("setenv HOME", errno);
}

void set_exec_labels(const Process& process) {
    if (!process.apparmor_profile.empty() && apparmor_enabled()) {
        // Linux 5.8+ has a directory per LSM; older kernels the shared file.
        const char* path = "/proc/self/attr/apparmor/exec";
        if (!path_exists(path)) path = "/proc/self/attr/exec";
        write_proc(path, "exec " + process.apparmor_profile, "process.apparmorProfile");
    }
    if (!process.selinux_label.empty() && path_exists("/sys/fs/selinux/enforce"))
        write_proc("/proc/self/attr/exec", process.selinux_label, "process.selinuxLabel");
}

void set_no_new_privileges() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("process.noNewPrivileges", errno);
}

void set_user(const User& user) {
    // In a user namespace whose setgroups is "deny" (unprivileged), only an
    // empty list can be honoured, by leaving the groups alone.
    std::string setgroups = "allow";
    try {
        setgroups = read_file("/proc/self/setgroups");
    } catch (const Error&) {
    }
    if (setgroups.starts_with("deny")) {
        if (!user.additional_gids.empty())
            throw Error(Errc::failed, "process.user.additionalGids: setgroups is denied in this user namespace");
    } else {
        std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
        if (::setgroups(groups.size(), groups.data()) != 0) throw_errno("process.user.additionalGids: setgroups", errno);
    }
    if (::setresgid(user.gid, user.gid, user.gid) != 0)
        throw_errno("process.user.gid: setgid " + std::to_string(user.gid), errno);
    if (::setresuid(user.uid, user.uid, user.uid) != 0)
        throw_errno("process.user.uid: setuid " + std::to_string(user.uid), errno);
}

}  // namespace lxcri::init
