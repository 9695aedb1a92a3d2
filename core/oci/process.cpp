// The process section of config.json (runtime-spec config.md, "process").

#include "oci/sections.hpp"

#include <lxcri/error.hpp>

#include <set>

namespace lxcri::oci::detail {
namespace {

Capabilities read_capabilities(Fields& f) {
    Capabilities caps;
    auto check = [](const std::string& name) {
        return contains(known_capabilities(), name) ? "" : "unknown capability " + quote(name);
    };
    read_checked_strings(f, "bounding", caps.bounding, check);
    read_checked_strings(f, "effective", caps.effective, check);
    read_checked_strings(f, "inheritable", caps.inheritable, check);
    read_checked_strings(f, "permitted", caps.permitted, check);
    read_checked_strings(f, "ambient", caps.ambient, check);
    return caps;
}

User read_user(Fields& f) {
    User user;
    if (f.require("uid")) f.read("uid", user.uid);
    if (f.require("gid")) f.read("gid", user.gid);
    f.read("umask", user.umask, std::uint32_t{0}, std::uint32_t{0777});
    f.read("additionalGids", user.additional_gids);
    f.read("username", user.username);
    return user;
}

std::vector<Rlimit> read_rlimits(const Fields& process) {
    std::set<std::string> seen;
    return read_objects(process, "rlimits", [&](Fields& f) {
        Rlimit rlimit;
        if (f.require("type") && read_name(f, "type", rlimit.type, known_rlimits(), "rlimit") &&
            !seen.insert(rlimit.type).second)
            f.add("type", "duplicate rlimit " + quote(rlimit.type));
        bool soft = f.require("soft") && f.read("soft", rlimit.soft);
        bool hard = f.require("hard") && f.read("hard", rlimit.hard);
        if (soft && hard && rlimit.soft > rlimit.hard)
            f.add("soft", "must not exceed hard (" + std::to_string(rlimit.soft) + " > " +
                              std::to_string(rlimit.hard) + ")");
        return rlimit;
    });
}

IoPriority read_io_priority(Fields& f) {
    static constexpr std::array<std::string_view, 3> classes = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                                "IOPRIO_CLASS_IDLE"};
    IoPriority priority;
    if (f.require("class")) read_name(f, "class", priority.io_class, classes, "I/O priority class");
    f.read("priority", priority.priority, 0, 7);
    return priority;
}

Scheduler read_scheduler(Fields& f) {
    static constexpr std::array<std::string_view, 7> policies = {
        "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"};
    static constexpr std::array<std::string_view, 7> flags = {
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX"};
    Scheduler scheduler;
    if (f.require("policy")) read_name(f, "policy", scheduler.policy, policies, "scheduler policy");
    f.read("nice", scheduler.nice, -20, 19);
    f.read("priority", scheduler.priority);
    read_checked_strings(f, "flags", scheduler.flags, [](const std::string& flag) {
        return contains(flags, flag) ? "" : "unknown scheduler flag " + quote(flag);
    });
    f.read("runtime", scheduler.runtime);
    f.read("deadline", scheduler.deadline);
    f.read("period", scheduler.period);
    return scheduler;
}

CpuAffinity read_cpu_affinity(Fields& f) {
    CpuAffinity affinity;
    for (auto [key, out] : {std::pair{"initial", &affinity.initial}, std::pair{"final", &affinity.final}}) {
        if (f.read(key, *out) && !is_cpu_list(*out)) f.add(key, "must be a CPU list such as 0-3,7");
    }
    return affinity;
}

}  // namespace

Process read_process(Fields& f) {
    Process process;
    f.read("terminal", process.terminal);
    process.console_size = read_object(f, "consoleSize", [](Fields& c) {
        ConsoleSize size;
        if (c.require("height")) c.read("height", size.height);
        if (c.require("width")) c.read("width", size.width);
        return size;
    });
    if (auto user = read_object(f, "user", read_user)) process.user = std::move(*user);

    if (f.require("args") && f.read("args", process.args)) {
        if (process.args.empty())
            f.add("args", "must not be empty");
        else if (process.args.front().empty())
            f.problems().add(index_path(f.path_of("args"), 0), "must not be empty");
    }
    read_checked_strings(f, "env", process.env, check_env);
    if (f.require("cwd") && f.read("cwd", process.cwd) && !is_absolute(process.cwd))
        f.add("cwd", "must be an absolute path");

    process.capabilities = read_object(f, "capabilities", read_capabilities);
    process.rlimits = read_rlimits(f);
    f.read("noNewPrivileges", process.no_new_privileges);
    f.read("apparmorProfile", process.apparmor_profile);
    f.read("oomScoreAdj", process.oom_score_adj, -1000, 1000);
    f.read("selinuxLabel", process.selinux_label);
    process.io_priority = read_object(f, "ioPriority", read_io_priority);
    process.scheduler = read_object(f, "scheduler", read_scheduler);
    process.exec_cpu_affinity = read_object(f, "execCPUAffinity", read_cpu_affinity);
    return process;
}

}  // namespace lxcri::oci::detail
