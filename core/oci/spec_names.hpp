#pragma once

// The closed sets of names the OCI runtime spec uses on Linux. The parser
// checks against them; `features` can report them.

#include <span>
#include <string_view>

namespace lxcri::oci {

// "CAP_CHOWN" .. "CAP_CHECKPOINT_RESTORE" (capabilities(7), Linux 5.9+).
std::span<const std::string_view> known_capabilities();

// "RLIMIT_AS" .. "RLIMIT_STACK" (getrlimit(2)).
std::span<const std::string_view> known_rlimits();

// OCI namespace type names: "pid", "network", ...
std::span<const std::string_view> known_namespace_types();

// libseccomp names (as of libseccomp 2.6, listed by runtime-spec 1.2).
std::span<const std::string_view> known_seccomp_actions();
std::span<const std::string_view> known_seccomp_operators();
std::span<const std::string_view> known_seccomp_architectures();
std::span<const std::string_view> known_seccomp_flags();

// linux.rootfsPropagation values.
std::span<const std::string_view> known_rootfs_propagations();

// linux.memoryPolicy mode and flags (set_mempolicy(2), spec 1.3).
std::span<const std::string_view> known_memory_policy_modes();
std::span<const std::string_view> known_memory_policy_flags();

bool contains(std::span<const std::string_view> names, std::string_view name);

}  // namespace lxcri::oci
