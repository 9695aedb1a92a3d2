#include "runtime/runtime.hpp"

#include "oci/parser.hpp"
#include "runtime/hooks.hpp"
#include "runtime/vmid_allocator.hpp"
#include "state/container_id.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <functional>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

// Undoes the steps of a create that has not finished, newest first.
class Rollback {
public:
    ~Rollback() {
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            try {
                (*it)();
            } catch (const std::exception& e) {
                log::warning(std::string("rollback: ") + e.what());
            }
        }
    }
    void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
    void commit() { steps_.clear(); }

private:
    std::vector<std::function<void()>> steps_;
};

fs::path resolve_rootfs(const fs::path& bundle, const std::string& root_path) {
    fs::path rootfs = fs::path(root_path).is_absolute() ? fs::path(root_path) : bundle / root_path;
    std::error_code ec;
    if (!fs::is_directory(rootfs, ec))
        throw Error(Errc::invalid_input, "config.json: root.path: " + rootfs.string() + " is not a directory");
    return rootfs;
}

// How often create tries another VMID after losing one to a race.
constexpr int max_vmid_attempts = 10;

void write_pid_file(const fs::path& path, pid_t pid) {
    write_file_atomic(path, std::to_string(pid), 0644, Durability::process);
}

constexpr const char* backend_options_file = "backend-options.json";

// "1000" or "1000:1000" -> process.user.uid / gid.
void apply_user(boost::json::object& user, const std::string& text) {
    auto number = [&](const std::string& part) {
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 10)
            throw Error(Errc::invalid_input, "exec --user: '" + text + "' is not uid[:gid]");
        return std::stoull(part);
    };
    auto colon = text.find(':');
    user["uid"] = number(text.substr(0, colon));
    if (colon != std::string::npos) user["gid"] = number(text.substr(colon + 1));
}

}  // namespace

std::vector<fs::path> plugin_directories(const Config& config) {
    std::vector<fs::path> dirs = config.plugin_dirs;
    dirs.push_back(PluginLoader::default_directory());
    return dirs;
}

fs::path libexec_directory() { return program_relative_dir(LXCRI_LIBEXEC_RELDIRS); }

Runtime::Runtime(Config config)
    : config_(std::move(config)),
      plugins_(plugin_directories(config_)),
      states_(config_.root),
      mappings_(config_.state_dir) {}

std::string Runtime::backend_name() const {
    if (config_.backend != "auto") return config_.backend;
    std::string pct = config_.plugin_options("pct").count("path") ? config_.plugin_options("pct").at("path")
                                                                   : "/usr/sbin/pct";
    if (plugins_.find(PluginKind::backend, "pct") && ::access(pct.c_str(), X_OK) == 0) return "pct";
    if (plugins_.find(PluginKind::backend, "lxc")) return "lxc";
    return "dry-run";
}

PluginContext Runtime::plugin_context(const std::string& name) const {
    return PluginContext{config_.plugin_options(name), config_.root, config_.state_dir, libexec_directory()};
}

Plugin<Backend> Runtime::load_backend(const std::string& name) const {
    return plugins_.load_backend(name, plugin_context(name));
}

// A container is handled with the backend options it was created with (its
// lxcpath, pct paths ...), not with whatever the config says today: a changed
// config, or a caller that drops flags (podman's cleanup does), must not
// orphan it.
Plugin<Backend> Runtime::backend_of(const ContainerState& state) const {
    PluginContext context = plugin_context(state.backend);
    fs::path file = states_.container_dir(state.id) / backend_options_file;
    std::error_code ec;
    if (fs::exists(file, ec)) {
        context.options.clear();
        boost::json::value options = read_json_file(file);  // kept alive for the loop
        if (!options.is_object()) throw Error(Errc::failed, file.string() + ": damaged");
        for (const auto& [key, value] : options.as_object())
            if (value.is_string()) context.options[std::string(key)] = std::string(value.as_string());
    }
    return plugins_.load_backend(state.backend, context);
}

ContainerRef Runtime::ref(const ContainerState& state) const {
    return ContainerRef{state.id, state.vmid, state.bundle, states_.container_dir(state.id)};
}

ContainerState Runtime::require_state(const std::string& id) const {
    validate_container_id(id);
    auto state = states_.read(id);
    if (!state) throw Error(Errc::invalid_state, id + ": container is still being created (or its create failed; delete --force removes it)");
    return *state;
}

ContainerState Runtime::with_live_status(ContainerState state, Backend& backend) const {
    ContainerStatus live = backend.state(ref(state));
    state.status = live.status;
    state.pid = live.pid;
    return state;
}

ContainerState Runtime::create(const std::string& id, const CreateOptions& options, pid_t* wait_pid) {
    validate_container_id(id);
    if (states_.exists(id)) throw Error(Errc::already_exists, id + ": container with given ID already exists");

    fs::path bundle = absolute_path(options.bundle);
    ContainerSpec spec = oci::load_bundle_config(bundle);
    resolve_rootfs(bundle, spec.root.path);

    std::string backend_id = backend_name();
    auto backend = load_backend(backend_id);
    auto mapping = plugins_.load_mapping(config_.mapping, plugin_context(config_.mapping));

    // The lock outlives the rollback, so nobody sees a half-removed container.
    std::optional<FileLock> container_lock;
    Rollback rollback;
    states_.create_container_dir(id);
    rollback.add([&] { states_.remove(id); });
    container_lock.emplace(states_.container_dir(id));

    Vmid vmid = 0;
    {
        auto transaction = mappings_.begin();
        std::optional<MappingEntry> previous;
        if (auto it = transaction.entries().find(id); it != transaction.entries().end()) previous = it->second;
        vmid = allocate_vmid(transaction.entries(), id, backend_id, *mapping, config_.mapping, config_.vmid_range,
                             backend->vmids_in_use());
        transaction.commit();
        rollback.add([this, id, previous] {
            auto undo = mappings_.begin();
            if (previous)
                undo.entries()[id] = *previous;
            else
                undo.entries().erase(id);
            undo.commit();
        });
    }
    log::debug(id + ": VMID " + std::to_string(vmid) + " (" + config_.mapping + "), backend " + backend_id);

    ContainerState state;
    state.oci_version = state_oci_version;
    state.id = id;
    state.bundle = bundle;
    state.annotations = spec.annotations;
    state.vmid = vmid;
    state.backend = backend_id;
    state.created = rfc3339_now();

    // The core's own copy: exec, hooks and poststop must not depend on the
    // bundle still being there (or unchanged).
    write_file_atomic(states_.container_dir(id) / stored_config_file, read_file(bundle / "config.json"), 0600,
                      Durability::process);
    boost::json::object backend_options;
    for (const auto& [key, value] : config_.plugin_options(backend_id)) backend_options[key] = value;
    write_file_atomic(states_.container_dir(id) / backend_options_file, boost::json::serialize(backend_options), 0600,
                      Durability::process);

    // A VMID can be taken between the check above and the backend's create
    // (by another cluster node, or by hand): the backend then fails with
    // already_exists, having undone its part, and the next free VMID is tried.
    std::optional<CreateResult> created;
    for (int attempt = 1; !created; ++attempt) {
        try {
            created = backend->create(CreateRequest{ref(state), spec, options.console_socket, options.preserve_fds});
        } catch (const Error& e) {
            if (e.code() != Errc::already_exists || attempt >= max_vmid_attempts) throw;
            log::info(id + ": " + e.what() + "; trying another VMID");
            auto transaction = mappings_.begin();
            std::set<Vmid> in_use = backend->vmids_in_use();
            in_use.insert(state.vmid);
            state.vmid = allocate_vmid(transaction.entries(), id, backend_id, *mapping, config_.mapping,
                                       config_.vmid_range, in_use);
            transaction.commit();
        }
    }
    CreateResult result = *created;
    // By value: `state` is gone by the time the rollback runs.
    rollback.add([&backend, container = ref(state)] { backend->remove(container, true); });
    state.status = result.status.status;
    state.pid = result.status.pid;

    ContainerState creating = state;
    creating.status = Status::creating;
    run_hooks(spec.hooks.prestart, "prestart", creating);
    run_hooks(spec.hooks.create_runtime, "createRuntime", creating);
    run_hooks(spec.hooks.create_container, "createContainer", creating, state.pid);
    states_.write(state);

    if (wait_pid) *wait_pid = result.pid_file_pid.value_or(result.status.pid);
    if (options.pid_file) {
        pid_t pid = result.pid_file_pid.value_or(result.status.pid);
        if (pid > 0)
            write_pid_file(absolute_path(*options.pid_file), pid);
        else
            log::warning(id + ": backend " + backend_id + " runs no process; no pid file written");
    }
    rollback.commit();
    return state;
}

void Runtime::start(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    state = with_live_status(state, *backend);
    if (state.status != Status::created)
        throw Error(Errc::invalid_state, id + ": cannot start a container that is " + std::string(to_string(state.status)));
    ContainerSpec spec = stored_spec(id);
    try {
        run_hooks(spec.hooks.start_container, "startContainer", state, state.pid);
    } catch (const Error&) {
        // The spec: a failed startContainer hook stops the container.
        backend->kill(ref(state), SIGKILL, true);
        throw;
    }
    backend->start(ref(state));
    // Not asked again: the process may already be gone, and `state` derives
    // the live status anyway.
    state.status = Status::running;
    states_.write(state);
    run_hooks_warn(spec.hooks.poststart, "poststart", state);
}

ContainerState Runtime::state(const std::string& id) {
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    return with_live_status(state, *backend);
}

void Runtime::kill(const std::string& id, int signal, bool all) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    state = with_live_status(state, *backend);
    if (state.status != Status::created && state.status != Status::running && state.status != Status::paused)
        throw Error(Errc::invalid_state, id + ": container not running");
    backend->kill(ref(state), signal, all);
    states_.write(with_live_status(state, *backend));
}

void Runtime::remove(const std::string& id, bool force) {
    validate_container_id(id);
    // As runc: --force on a container that is already gone succeeds (podman
    // cleans up a failed create this way).
    if (force && !states_.exists(id)) return;
    FileLock lock = states_.lock(id);
    auto stored = states_.read(id);
    if (stored) {
        auto backend = backend_of(*stored);
        ContainerState state = with_live_status(*stored, *backend);
        if (!force && state.status != Status::stopped && state.status != Status::created)
            throw Error(Errc::invalid_state, id + ": cannot delete a container that is " +
                                                 std::string(to_string(state.status)) + " (use --force)");
        std::optional<ContainerSpec> spec;
        try {
            spec = stored_spec(id);
        } catch (const Error& e) {
            log::warning(e.what());
        }
        backend->remove(ref(state), force);
        state.status = Status::stopped;
        if (spec) run_hooks_warn(spec->hooks.poststop, "poststop", state);
    } else if (!force) {
        throw Error(Errc::invalid_state, id + ": container is still being created (delete --force removes a failed create)");
    }
    {
        auto transaction = mappings_.begin();
        transaction.entries().erase(id);
        transaction.commit();
    }
    states_.remove(id);
}

boost::json::object Runtime::stored_config(const std::string& id) const {
    fs::path file = states_.container_dir(id) / stored_config_file;
    return read_json_file(file).as_object();
}

ContainerSpec Runtime::stored_spec(const std::string& id) const {
    return oci::parse_config(stored_config(id));
}

int Runtime::exec(const std::string& id, const ExecOptions& options) {
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    state = with_live_status(state, *backend);
    if (state.status != Status::running && state.status != Status::created)
        throw Error(Errc::invalid_state, id + ": cannot exec in a container that is " + std::string(to_string(state.status)));

    boost::json::object config = stored_config(id);
    boost::json::object process;
    if (options.process_file) {
        std::string text = *options.process_file == "-" ? read_file("/dev/stdin") : read_file(*options.process_file);
        auto value = parse_json(text, "process");
        if (!value.is_object()) throw Error(Errc::invalid_input, "process: must be a JSON object");
        process = value.as_object();
    } else {
        if (options.args.empty()) throw Error(Errc::usage, "exec: a command or --process is required");
        if (auto* base = config.if_contains("process"); base && base->is_object()) process = base->as_object();
        boost::json::array args;
        for (const auto& a : options.args) args.push_back(boost::json::value(a));
        process["args"] = std::move(args);
        process["terminal"] = options.tty;
        if (options.cwd) process["cwd"] = *options.cwd;
        if (options.user) apply_user(process["user"].is_object() ? process["user"].as_object() : process["user"].emplace_object(), *options.user);
        if (!options.additional_gids.empty()) {
            boost::json::array gids;
            for (auto g : options.additional_gids) gids.push_back(g);
            if (!process["user"].is_object()) process["user"].emplace_object();
            process["user"].as_object()["additionalGids"] = std::move(gids);
        }
        if (options.no_new_privileges) process["noNewPrivileges"] = true;
        if (!options.env.empty()) {
            boost::json::array env = process["env"].is_array() ? process["env"].as_array() : boost::json::array{};
            for (const auto& e : options.env) {
                std::string name = e.substr(0, e.find('='));
                auto same = std::find_if(env.begin(), env.end(), [&](const boost::json::value& v) {
                    return v.is_string() && std::string(v.as_string()).rfind(name + "=", 0) == 0;
                });
                if (same != env.end()) *same = boost::json::value(e);
                else env.push_back(boost::json::value(e));
            }
            process["env"] = std::move(env);
        }
        if (!options.capabilities.empty() && process["capabilities"].is_object())
            for (auto& [set, caps] : process["capabilities"].as_object())
                if (caps.is_array())
                    for (const auto& cap : options.capabilities) caps.as_array().push_back(boost::json::value(cap));
    }
    config["process"] = process;
    ContainerSpec spec = oci::parse_config(config);  // the same rules as config.json
    ExecRequest request{*spec.process, boost::json::serialize(process), options.console_socket, options.detach,
                        options.preserve_fds};
    ExecResult result = backend->exec(ref(state), request);
    if (options.pid_file) write_pid_file(absolute_path(*options.pid_file), result.pid);
    return result.exit_code.value_or(0);
}

std::vector<pid_t> Runtime::processes(const std::string& id) {
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    return backend->processes(ref(state));
}

void Runtime::pause(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    if (with_live_status(state, *backend).status != Status::running)
        throw Error(Errc::invalid_state, id + ": container not running");
    backend->pause(ref(state));
}

void Runtime::resume(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    if (with_live_status(state, *backend).status != Status::paused)
        throw Error(Errc::invalid_state, id + ": container not paused");
    backend->resume(ref(state));
}

void Runtime::update(const std::string& id, const std::string& resources_json) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    boost::json::object config = stored_config(id);
    auto resources = parse_json(resources_json, "resources");
    if (!config["linux"].is_object()) config["linux"].emplace_object();
    config["linux"].as_object()["resources"] = resources;
    ContainerSpec spec = oci::parse_config(config);
    auto backend = backend_of(state);
    backend->update(ref(state), spec.linux_spec.resources);
    // Later execs and hooks see the new limits too.
    write_file_atomic(states_.container_dir(id) / stored_config_file, boost::json::serialize(config), 0600,
                      Durability::process);
}

std::vector<ContainerState> Runtime::list() {
    std::vector<ContainerState> result;
    for (const auto& id : states_.ids()) {
        std::optional<ContainerState> state;
        try {
            state = states_.read(id);
        } catch (const Error& e) {
            log::warning(e.what());
            continue;
        }
        if (!state) continue;  // being created
        try {
            auto backend = backend_of(*state);
            *state = with_live_status(*state, *backend);
        } catch (const Error& e) {
            log::warning(id + ": status not live: " + e.what());
        }
        result.push_back(*state);
    }
    return result;
}

}  // namespace lxcri
