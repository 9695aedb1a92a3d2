#pragma once

#include "state/state_store.hpp"

#include <lxcri/container_spec.hpp>

#include <string_view>
#include <vector>

namespace lxcri {

// Runs OCI hooks in order, as runtime.md says: the container's state JSON on
// stdin, the hook's env (only), args and timeout. `phase` names them in
// errors ("hooks.createRuntime[0]"). With `container_pid`, each hook runs in
// that process's namespaces (createContainer, startContainer). Throws Error
// for the first hook that fails or times out.
void run_hooks(const std::vector<Hook>& hooks, std::string_view phase, const ContainerState& state,
               pid_t container_pid = 0);

// The same, but a failure only warns (poststart, poststop).
void run_hooks_warn(const std::vector<Hook>& hooks, std::string_view phase, const ContainerState& state,
                    pid_t container_pid = 0);

}  // namespace lxcri
