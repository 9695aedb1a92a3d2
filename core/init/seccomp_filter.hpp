#pragma once

// linux.seccomp through libseccomp, as runc builds it: rules for syscalls
// this architecture does not know are skipped, rules whose action is the
// default action are left out, and a rule testing one argument twice becomes
// one rule per condition.

#include <lxcri/container_spec.hpp>

#include <seccomp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri::init {

// libseccomp's action. SCMP_ACT_ERRNO and SCMP_ACT_TRACE return `errno_ret`,
// EPERM when unset. SCMP_ACT_NOTIFY is an Error: it needs a seccomp agent
// (listenerPath), which proxmox-lxcri does not provide.
std::uint32_t seccomp_action(SeccompAction action, std::optional<std::uint32_t> errno_ret);

scmp_compare seccomp_compare(SeccompOperator op);

// libseccomp's token for "SCMP_ARCH_*", or 0 when this libseccomp does not
// know the architecture.
std::uint32_t seccomp_arch(std::string_view name);

struct SeccompRule {
    std::size_t index = 0;  // in linux.seccomp.syscalls, for messages
    std::string name;
    int syscall = 0;  // libseccomp's number (negative: a pseudo syscall)
    std::uint32_t action = 0;
    std::vector<scmp_arg_cmp> conditions;
};

// The rules libseccomp gets for `seccomp`, in order.
std::vector<SeccompRule> seccomp_rules(const Seccomp& seccomp);

// A filter built from the spec but not loaded yet, so that a spec libseccomp
// rejects fails `create`, and the load itself can come as late as possible.
class SeccompFilter {
public:
    explicit SeccompFilter(const Seccomp& seccomp);
    ~SeccompFilter();
    SeccompFilter(const SeccompFilter&) = delete;
    SeccompFilter& operator=(const SeccompFilter&) = delete;

    // Loads it into the calling process. Without no_new_privileges this
    // needs CAP_SYS_ADMIN: libseccomp is told not to set NNP by itself.
    void load();

    // libseccomp's pseudo filter code, for tests and debugging.
    std::string pfc() const;

private:
    scmp_filter_ctx ctx_ = nullptr;
};

}  // namespace lxcri::init
