#include "init/seccomp_filter.hpp"

#include <lxcri/error.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>

namespace lxcri::init {
namespace {

// libseccomp returns -errno.
void check(int rc, const std::string& what) {
    if (rc < 0) throw_errno(what, -rc, Errc::failed);
}

std::string field(std::size_t index) { return "linux.seccomp.syscalls[" + std::to_string(index) + "]"; }

// A filter returns 16 bits of data.
void check_errno_ret(std::optional<std::uint32_t> errno_ret, const std::string& path) {
    if (errno_ret && *errno_ret > 0xffff)
        throw Error(Errc::invalid_input, path + ": " + std::to_string(*errno_ret) + " exceeds 65535");
}

}  // namespace

std::uint32_t seccomp_action(SeccompAction action, std::optional<std::uint32_t> errno_ret) {
    auto data = [&] {
        std::uint32_t value = errno_ret.value_or(EPERM);
        if (value > 0xffff) throw Error(Errc::invalid_input, "errnoRet " + std::to_string(value) + " exceeds 65535");
        return value;
    };
    switch (action) {
    case SeccompAction::kill:  // SCMP_ACT_KILL is the thread, as in runc
    case SeccompAction::kill_thread: return SCMP_ACT_KILL_THREAD;
    case SeccompAction::kill_process: return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::trap: return SCMP_ACT_TRAP;
    case SeccompAction::return_errno: return SCMP_ACT_ERRNO(data());
    case SeccompAction::trace: return SCMP_ACT_TRACE(data());
    case SeccompAction::allow: return SCMP_ACT_ALLOW;
    case SeccompAction::log: return SCMP_ACT_LOG;
    case SeccompAction::notify: break;
    }
    throw Error(Errc::invalid_input, std::string(to_string(action)) +
                                         " needs a seccomp agent (listenerPath), which proxmox-lxcri does not support");
}

scmp_compare seccomp_compare(SeccompOperator op) {
    switch (op) {
    case SeccompOperator::ne: return SCMP_CMP_NE;
    case SeccompOperator::lt: return SCMP_CMP_LT;
    case SeccompOperator::le: return SCMP_CMP_LE;
    case SeccompOperator::eq: return SCMP_CMP_EQ;
    case SeccompOperator::ge: return SCMP_CMP_GE;
    case SeccompOperator::gt: return SCMP_CMP_GT;
    case SeccompOperator::masked_eq: return SCMP_CMP_MASKED_EQ;  // (arg & value) == valueTwo
    }
    return _SCMP_CMP_MIN;
}

std::uint32_t seccomp_arch(std::string_view name) {
    // "SCMP_ARCH_X86_64" -> "x86_64", the spelling libseccomp resolves.
    constexpr std::string_view prefix = "SCMP_ARCH_";
    if (name.substr(0, prefix.size()) != prefix) return 0;
    std::string lower;
    for (char c : name.substr(prefix.size())) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return seccomp_arch_resolve_name(lower.c_str());
}

std::vector<SeccompRule> seccomp_rules(const Seccomp& seccomp) {
    check_errno_ret(seccomp.default_errno_ret, "linux.seccomp.defaultErrnoRet");
    std::uint32_t default_action = 0;
    try {
        default_action = seccomp_action(seccomp.default_action, seccomp.default_errno_ret);
    } catch (const Error& e) {
        throw e.with_context("linux.seccomp.defaultAction");
    }
    std::vector<SeccompRule> rules;
    for (std::size_t i = 0; i < seccomp.syscalls.size(); ++i) {
        const auto& syscall = seccomp.syscalls[i];
        check_errno_ret(syscall.errno_ret, field(i) + ".errnoRet");
        std::uint32_t action = 0;
        try {
            action = seccomp_action(syscall.action, syscall.errno_ret);
        } catch (const Error& e) {
            throw e.with_context(field(i) + ".action");
        }
        if (action == default_action) continue;  // libseccomp refuses such rules

        std::vector<scmp_arg_cmp> conditions;
        std::array<int, 6> per_argument{};
        for (const auto& arg : syscall.args) {
            if (arg.index >= per_argument.size())
                throw Error(Errc::invalid_input, field(i) + ".args: index " + std::to_string(arg.index) + " exceeds 5");
            ++per_argument[arg.index];
            conditions.push_back({arg.index, seccomp_compare(arg.op), arg.value, arg.value_two});
        }
        // libseccomp ANDs the conditions of one rule and refuses two on the
        // same argument; runc then adds each condition as a rule of its own.
        bool split = false;
        for (int count : per_argument) split = split || count > 1;

        for (const auto& name : syscall.names) {
            int number = seccomp_syscall_resolve_name(name.c_str());
            if (number == __NR_SCMP_ERROR) continue;  // not on this architecture: skipped, as runc does
            if (split) {
                for (const auto& condition : conditions) rules.push_back({i, name, number, action, {condition}});
            } else {
                rules.push_back({i, name, number, action, conditions});
            }
        }
    }
    return rules;
}

SeccompFilter::SeccompFilter(const Seccomp& seccomp) {
    if (!seccomp.listener_path.empty())
        throw Error(Errc::invalid_input, "linux.seccomp.listenerPath: seccomp agents are not supported");
    auto rules = seccomp_rules(seccomp);  // checks the actions first
    auto default_action = seccomp_action(seccomp.default_action, seccomp.default_errno_ret);
    ctx_ = seccomp_init(default_action);
    if (!ctx_)
        throw Error(Errc::failed, "linux.seccomp.defaultAction: " + std::string(to_string(seccomp.default_action)) +
                                      " is not supported by this kernel or libseccomp");
    try {
        check(seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 0), "linux.seccomp: keep libseccomp from setting no_new_privs");
        for (const auto& name : seccomp.architectures) {
            std::uint32_t arch = seccomp_arch(name);
            if (arch == 0) throw Error(Errc::failed, "linux.seccomp.architectures: " + name + " is not supported by libseccomp " +
                                                         std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR));
            int rc = seccomp_arch_add(ctx_, arch);
            if (rc != -EEXIST) check(rc, "linux.seccomp.architectures: add " + name);
        }
        for (const auto& flag : seccomp.flags) {
            std::string what = "linux.seccomp.flags: " + flag;
            if (flag == "SECCOMP_FILTER_FLAG_TSYNC") continue;  // one thread: nothing to synchronise
            if (flag == "SECCOMP_FILTER_FLAG_LOG") {
                check(seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_LOG, 1), what);
            } else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
                check(seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_SSB, 1), what);
            } else if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
                check(seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_WAITKILL, 1), what);
#else
                throw Error(Errc::failed, what + " needs libseccomp 2.6");
#endif
            } else {
                throw Error(Errc::failed, what + " is not supported");
            }
        }
        for (const auto& rule : rules) {
            check(seccomp_rule_add_array(ctx_, rule.action, rule.syscall, static_cast<unsigned>(rule.conditions.size()),
                                         rule.conditions.data()),
                  field(rule.index) + ": add the rule for " + rule.name);
        }
    } catch (...) {
        seccomp_release(ctx_);
        throw;
    }
}

SeccompFilter::~SeccompFilter() { seccomp_release(ctx_); }

void SeccompFilter::load() { check(seccomp_load(ctx_), "linux.seccomp: load the filter"); }

std::string SeccompFilter::pfc() const {
    int fd = ::memfd_create("seccomp-pfc", MFD_CLOEXEC);
    if (fd < 0) throw_errno("memfd_create", errno);
    std::string text;
    int rc = seccomp_export_pfc(ctx_, fd);
    if (rc == 0 && ::lseek(fd, 0, SEEK_SET) == 0) {
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    check(rc, "linux.seccomp: export the filter");
    return text;
}

}  // namespace lxcri::init
