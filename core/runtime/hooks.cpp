#include "runtime/hooks.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>
#include <lxcri/process.hpp>

#include <boost/json.hpp>

namespace lxcri {
namespace {

// The OCI state a hook reads: the spec's fields only.
std::string hook_state(const ContainerState& state) {
    boost::json::object object = state.to_json();
    object.erase("vmid");
    object.erase("backend");
    object.erase("created");
    return boost::json::serialize(object);
}

void run_one(const Hook& hook, const std::string& name, const std::string& input, pid_t container_pid) {
    ProcessOptions options;
    options.input = input;
    options.env = hook.env;
    options.join_namespaces_of = container_pid;
    options.die_with_parent = true;
    if (hook.timeout) options.timeout = std::chrono::seconds(*hook.timeout);
    std::vector<std::string> argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    ProcessResult result;
    try {
        result = run_process(hook.path, argv, options);
    } catch (const Error& e) {
        throw e.with_context(name);
    }
    if (result.timed_out)
        throw Error(Errc::failed, name + ": " + hook.path + " timed out after " + std::to_string(*hook.timeout) + " s");
    if (result.exit_code != 0) {
        std::string detail = result.err.empty() ? result.out : result.err;
        while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
        throw Error(Errc::failed, name + ": " + hook.path + " exited with " + std::to_string(result.exit_code) +
                                      (detail.empty() ? "" : ": " + detail));
    }
}

}  // namespace

void run_hooks(const std::vector<Hook>& hooks, std::string_view phase, const ContainerState& state,
               pid_t container_pid) {
    if (hooks.empty()) return;
    std::string input = hook_state(state);
    for (size_t i = 0; i < hooks.size(); ++i)
        run_one(hooks[i], "hooks." + std::string(phase) + "[" + std::to_string(i) + "]", input, container_pid);
}

void run_hooks_warn(const std::vector<Hook>& hooks, std::string_view phase, const ContainerState& state,
                    pid_t container_pid) {
    std::string input = hook_state(state);
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], "hooks." + std::string(phase) + "[" + std::to_string(i) + "]", input, container_pid);
        } catch (const Error& e) {
            log::warning(e.what());
        }
    }
}

}  // namespace lxcri
