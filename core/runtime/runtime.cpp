#include "runtime/runtime.hpp"

#include "init_client/init_status.hpp"

#include "oci/parser.hpp"
#include "runtime/hooks.hpp"
#include "runtime/vmid_allocator.hpp"
#include "state/container_id.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/log.hpp>
#include <lxcri/process.hpp>
#include <lxcri/undo.hpp>

#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <thread>
#include <utility>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

// The core's copy of the bundle's config.json in <root>/<id>/, out of the
// container's reach (unlike rt/, which the container's root can write).
constexpr const char* stored_config_file = "config.json";
constexpr const char* backend_options_file = "backend-options.json";

// How often create tries another VMID after losing one to a race.
constexpr int max_vmid_attempts = 10;

// The pid file is written by rename, which would replace whatever is at
// its path: a --pid-file that exists and is not a regular file (/dev/null,
// a fifo, a directory) is refused. Returns the absolute path.
fs::path checked_pid_file(const fs::path& path) {
    fs::path file = absolute_path(path);
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw Error(Errc::invalid_input, "--pid-file " + path.string() + ": exists and is not a regular file");
    return file;
}

void write_pid(const fs::path& path, pid_t pid) {
    write_file_atomic(checked_pid_file(path), std::to_string(pid), 0644, Durability::process);
}

// The backend of `config`: backend = auto picks pct on a Proxmox host
// (the pct plugin and the pct command are there), else lxc, else dry-run.
std::string configured_backend(const Config& config, const PluginSource& plugins) {
    if (config.backend != "auto") return config.backend;
    std::string pct = config.plugin_options("pct").count("path") ? config.plugin_options("pct").at("path")
                                                                  : "/usr/sbin/pct";
    if (plugins.has(PluginKind::backend, "pct") && ::access(pct.c_str(), X_OK) == 0) return "pct";
    if (plugins.has(PluginKind::backend, "lxc")) return "lxc";
    return "dry-run";
}

}  // namespace

bool runs_on_built_in_plugins(const Config& config) {
    PluginLoader loader(plugin_directories(config), PluginLoader::Warnings::off);
    for (const auto& [kind, name] : {std::pair{PluginKind::backend, configured_backend(config, loader)},
                                     std::pair{PluginKind::mapping, config.mapping}}) {
        auto file = loader.find(kind, name);
        try {
            if (!file || !loader.builtin(*file)) return false;
        } catch (const Error&) {
            return false;  // the host reports it, as for any plugin
        }
    }
    return true;
}

std::vector<fs::path> plugin_directories(const Config& config) {
    std::vector<fs::path> dirs = config.plugin_dirs;
    dirs.push_back(PluginLoader::default_directory());
    return dirs;
}

// Found once: list asks for it per container.
fs::path libexec_directory() {
    static const fs::path dir = program_relative_dir(LXCRI_LIBEXEC_RELDIRS);
    return dir;
}

Runtime::Runtime(Config config)
    : Runtime(config, std::make_unique<PluginLoader>(plugin_directories(config))) {}

Runtime::Runtime(Config config, std::unique_ptr<PluginSource> plugins)
    : config_(std::move(config)), plugins_(std::move(plugins)), states_(config_.root), mappings_(config_.state_dir) {}

std::string Runtime::backend_name() const { return configured_backend(config_, *plugins_); }

PluginContext Runtime::plugin_context(const std::string& name) const {
    return PluginContext{config_.plugin_options(name), config_.root, config_.state_dir, libexec_directory()};
}

// A backend may keep files in --root and --state-dir from its constructor
// on (docs/PLUGINS.md): both exist, as private directories, before one is
// constructed.
void Runtime::make_plugin_dirs() const {
    ensure_private_dir(config_.root);
    ensure_private_dir(config_.state_dir);
}

Plugin<Backend> Runtime::load_backend(const std::string& name) const {
    make_plugin_dirs();
    return plugins_->load_backend(name, plugin_context(name));
}

// A container is handled with the backend options it was created with (its
// lxcpath, program paths ...), not with whatever the config says today: a changed
// config, or a caller that drops flags (podman's cleanup does), must not
// orphan it.
Plugin<Backend> Runtime::backend_of(const ContainerState& state) const {
    PluginContext context = backend_context(state);
    make_plugin_dirs();
    return plugins_->load_backend(state.backend, context);
}

PluginContext Runtime::backend_context(const ContainerState& state) const {
    PluginContext context = plugin_context(state.backend);
    fs::path file = states_.container_dir(state.id) / backend_options_file;
    std::error_code ec;
    if (fs::exists(file, ec)) {
        context.options.clear();
        boost::json::object options = read_json_object(file, Errc::failed);  // kept alive for the loop
        for (const auto& [key, value] : options)
            if (value.is_string()) context.options[std::string(key)] = std::string(value.as_string());
    }
    return context;
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

// Told by the core for a container whose init it knows (no plugin needed),
// else asked from the backend: `loaded` when the caller has it, else loaded here.
ContainerState Runtime::with_live_status(ContainerState state, Backend* loaded) const {
    ContainerStatus live;
    if (state.init_start_time)
        live = init_status(states_.container_dir(state.id), state.pid, *state.init_start_time);
    else if (loaded)
        live = loaded->state(ref(state));
    else
        live = backend_of(state)->state(ref(state));
    state.status = live.status;
    state.pid = live.pid;
    return state;
}

// kill, from the core where it knows the init; `state` is live.
void Runtime::signal(const ContainerState& state, int signal, bool all, Backend* loaded) const {
    auto backend_kill = [&] {
        if (loaded)
            loaded->kill(ref(state), signal, all);
        else
            backend_of(state)->kill(ref(state), signal, all);
    };
    if (!state.init_start_time) {
        backend_kill();
        return;
    }
    UniqueFd init = open_process(state.pid, *state.init_start_time);
    if (!init && all) {
        // The init is gone: the backend signals what it left behind.
        backend_kill();
        return;
    }
    if (!init) throw Error(Errc::invalid_state, state.id + ": container not running");
    if (all)
        for (pid_t pid : container_processes(state.pid))
            if (pid != state.pid) ::kill(pid, signal);
    if (::syscall(SYS_pidfd_send_signal, init.get(), signal, nullptr, 0) != 0 && errno != ESRCH)
        throw_errno("kill " + state.id, errno);
}

ContainerState Runtime::create(const std::string& id, const CreateOptions& options, pid_t* wait_pid) {
    validate_container_id(id);
    if (auto undo = CreateDeadline::take_undo(); undo && undo->id == id) undo_timed_out_create(*undo);
    CreateDeadline deadline(id, config_.create_timeout);
    deadline.step("read config.json");
    if (states_.exists(id)) throw Error(Errc::already_exists, id + ": container with given ID already exists");
    fs::path bundle_dir = absolute_path(options.bundle);
    if (options.pid_file) checked_pid_file(*options.pid_file);
    oci::BundleConfig bundle = read_bundle(bundle_dir);
    deadline.step("load the plugins");
    std::string backend_id = backend_name();
    auto backend = load_backend(backend_id);
    auto mapping = plugins_->load_mapping(config_.mapping, plugin_context(config_.mapping));

    // Nothing is written before this line; every step after it registers its undo.
    std::optional<FileLock> lock;  // outlives the undo: nobody sees a half-removed container
    Undo undo("rollback");
    deadline.step("claim " + states_.container_dir(id).string());
    lock.emplace(claim_directory(id, undo));
    deadline.claimed();
    ContainerState state;
    state.oci_version = state_oci_version;
    state.id = id;
    state.bundle = bundle_dir;
    state.annotations = bundle.spec.annotations;
    state.backend = backend_id;
    state.created = rfc3339_now();
    deadline.step("allocate a VMID");
    state.vmid = allocate(state, *backend, *mapping, undo);
    deadline.step("store the container's copies");
    store_copies(id, bundle.text, backend_id);
    deadline.step("the " + backend_id + " backend's create");
    CreateResult result = create_with_retry(state, *backend, *mapping, bundle, options, undo);
    deadline.step("the prestart, createRuntime and createContainer hooks");
    run_create_hooks(bundle.spec, state);
    deadline.step("write state.json and the pid file");
    states_.write(state);
    write_pid_file(state, result, options, wait_pid);
    undo.commit();
    return state;
}

// In the image that a create's deadline started (create_deadline.hpp):
// what the create made is removed as delete --force removes it, and the
// create fails with the deadline's message.
void Runtime::undo_timed_out_create(const CreateDeadline::Undo& timed_out) {
    if (!timed_out.claimed) throw Error(Errc::failed, timed_out.message + "; nothing was made");
    try {
        remove(timed_out.id, true);
    } catch (const Error& e) {
        throw Error(Errc::failed, timed_out.message + "; undoing it failed: " + e.what());
    }
    throw Error(Errc::failed, timed_out.message + "; what it made is removed");
}

// config.json, parsed and checked: nothing is written yet, so bad input
// changes nothing.
oci::BundleConfig Runtime::read_bundle(const fs::path& bundle) const {
    oci::BundleConfig config = oci::read_bundle_config(bundle);
    for (const auto& warning : config.warnings) log::warning("config.json: " + oci::to_string(warning));
    if (auto problem = directory_problem(rootfs_path(config.spec, bundle), config.spec.root.path))
        throw Error(Errc::invalid_input, "config.json: root.path: " + *problem);
    return config;
}

// <root>/<id>, exclusive: of two creates of one id exactly one wins. It is
// locked before it appears, and the lock is held for the rest of the create.
FileLock Runtime::claim_directory(const std::string& id, Undo& undo) {
    FileLock lock = states_.create_container_dir(id);
    undo.add([this, id] { states_.remove(id); });
    return lock;
}

// Under the mapping lock: the id's old VMID while it is free, else the
// mapping's first free candidate; the old entry comes back on undo.
Vmid Runtime::allocate(const ContainerState& state, Backend& backend, const MappingStrategy& mapping, Undo& undo) {
    auto transaction = mappings_.begin();
    CreateInventory inventory(transaction, backend);
    MappingEntry entry = allocate_vmid({state.id, state.backend, transaction.find(state.id)}, inventory, mapping,
                                       config_.mapping, config_.vmid_range);
    // The undo needs no disk space: the old entry is kept aside as a link
    // and comes back by renames.
    auto previous = std::make_shared<MappingStore::Saved>(transaction.save(state.id));
    transaction.put(state.id, entry);
    undo.add([this, id = state.id, previous] { mappings_.begin().restore(id, *previous); });
    log::debug(state.id + ": VMID " + std::to_string(entry.vmid) + " (" + config_.mapping + "), backend " +
               state.backend);
    return entry.vmid;
}

// The core's own copies: exec, hooks and poststop must not depend on the
// bundle still being there (or unchanged), and a container is handled with
// the backend options it was created with (backend_of). config.json is the
// text that was parsed, not a second read of the file.
void Runtime::store_copies(const std::string& id, const std::string& config_json, const std::string& backend_id) {
    write_file_atomic(states_.container_dir(id) / stored_config_file, config_json, 0600, Durability::process);
    boost::json::object backend_options;
    for (const auto& [key, value] : config_.plugin_options(backend_id)) backend_options[key] = value;
    write_file_atomic(states_.container_dir(id) / backend_options_file, boost::json::serialize(backend_options), 0600,
                      Durability::process);
}

// A VMID can be taken between the allocation and the backend's create (by
// another cluster node, or by hand): the backend then fails with
// already_exists, having undone its part, and the next free VMID is tried.
CreateResult Runtime::create_with_retry(ContainerState& state, Backend& backend, const MappingStrategy& mapping,
                                        const oci::BundleConfig& bundle, const CreateOptions& options, Undo& undo) {
    std::optional<CreateResult> created;
    for (int attempt = 1; !created; ++attempt) {
        try {
            created = backend.create(
                CreateRequest{ref(state), bundle.spec, bundle.text, options.console_socket, options.preserve_fds});
        } catch (const Error& e) {
            if (e.code() != Errc::already_exists || attempt >= max_vmid_attempts) throw;
            log::info(state.id + ": " + e.what() + "; trying another VMID");
            auto transaction = mappings_.begin();
            CreateInventory inventory(transaction, backend, {state.vmid});
            MappingEntry entry = allocate_vmid({state.id, state.backend, transaction.find(state.id)}, inventory,
                                               mapping, config_.mapping, config_.vmid_range);
            transaction.put(state.id, entry);
            state.vmid = entry.vmid;
        }
    }
    // By value: `state` is gone by the time the undo runs.
    undo.add([&backend, container = ref(state)] { backend.remove(container, true); });
    state.status = created->status.status;
    state.pid = created->status.pid;
    if (created->status_from_init) {
        // What tells this init apart from a later process with its pid.
        state.init_start_time = process_start_time(state.pid);
        if (!state.init_start_time)
            throw Error(Errc::failed, state.id + ": the container's init (pid " + std::to_string(state.pid) +
                                          ") exited during create");
    }
    return *created;
}

// prestart and createRuntime after the backend's create, createContainer
// in the container's namespaces; the state they read says "creating".
void Runtime::run_create_hooks(const ContainerSpec& spec, const ContainerState& state) const {
    ContainerState creating = state;
    creating.status = Status::creating;
    run_hooks(spec.hooks.prestart, "prestart", creating);
    run_hooks(spec.hooks.create_runtime, "createRuntime", creating);
    run_hooks(spec.hooks.create_container, "createContainer", creating, state.pid);
}

void Runtime::write_pid_file(const ContainerState& state, const CreateResult& result, const CreateOptions& options,
                             pid_t* wait_pid) const {
    pid_t pid = result.pid_file_pid.value_or(result.status.pid);
    if (wait_pid) *wait_pid = pid;
    if (!options.pid_file) return;
    if (pid > 0)
        write_pid(*options.pid_file, pid);
    else
        log::warning(state.id + ": backend " + state.backend + " runs no process; no pid file written");
}

void Runtime::start(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = with_live_status(require_state(id));
    if (state.status != Status::created)
        throw Error(Errc::invalid_state, id + ": cannot start a container that is " + std::string(to_string(state.status)));
    ContainerSpec spec = stored_spec(id);
    // A failed startContainer hook stops the container, and what its init
    // left may be the backend's to kill: the backend is loaded before the
    // hook runs. So the static executable, which cannot load it, hands the
    // start to the plugin host before the hook has run, not after.
    std::optional<Plugin<Backend>> backend;
    if (!spec.hooks.start_container.empty()) backend.emplace(backend_of(state));
    try {
        run_hooks(spec.hooks.start_container, "startContainer", state, state.pid);
    } catch (const Error&) {
        // The spec: a failed startContainer hook stops the container.
        signal(state, SIGKILL, true, backend ? &**backend : nullptr);
        throw;
    }
    if (state.init_start_time)
        release_exec_fifo(ref(state));
    else
        backend_of(state)->start(ref(state));
    // Not asked again: the process may already be gone, and `state` derives
    // the live status anyway.
    state.status = Status::running;
    record_status(state);
    run_hooks_warn(spec.hooks.poststart, "poststart", state);
}

ContainerState Runtime::state(const std::string& id) {
    return with_live_status(require_state(id));
}

void Runtime::kill(const std::string& id, int signal, bool all) {
    FileLock lock = states_.lock(id);
    ContainerState state = with_live_status(require_state(id));
    // With --all a stopped container's leftovers are signalled, as runc
    // does: engines kill what an exited init left in a shared pid namespace.
    if (state.status != Status::created && state.status != Status::running && state.status != Status::paused &&
        !(all && state.status == Status::stopped))
        throw Error(Errc::invalid_state, id + ": container not running");
    this->signal(state, signal, all);
    record_status(with_live_status(state));
}

// After start or kill took effect: state.json's status is only a cache
// (every command reads the live status), so a failure to write it (a full
// disk) is a warning, not a failure of what was done.
void Runtime::record_status(const ContainerState& state) const {
    try {
        states_.write(state);
    } catch (const Error& e) {
        log::warning(state.id + ": status " + std::string(to_string(state.status)) + " not recorded: " + e.what());
    }
}

void Runtime::remove(const std::string& id, bool force) {
    validate_container_id(id);
    // As runc: --force on a container that is already gone succeeds (podman
    // cleans up a failed create this way), also when a concurrent delete
    // removed it while we waited for its lock.
    std::optional<FileLock> lock;
    try {
        lock.emplace(force ? lock_stopping_create(id) : states_.lock(id));
    } catch (const Error& e) {
        if (!force || e.code() != Errc::not_found) throw;
        states_.remove_unclaimed(id);
        return;
    }
    std::optional<ContainerState> stored;
    try {
        stored = states_.read(id);
    } catch (const Error& e) {
        if (!force || e.code() == Errc::permission) throw;
        log::warning(std::string(e.what()) + "; deleting the container from its mapping entry");
    }
    if (!stored && !force)
        throw Error(Errc::invalid_state, id + ": container is still being created (delete --force removes a failed create)");

    // What can fail is checked before anything is removed: the mapping is
    // read (a damaged entry stops us here) and must be writable (a
    // read-only state dir shows here; removing an entry needs no space).
    std::optional<MappingEntry> entry;
    {
        auto check = mappings_.begin();
        entry = check.find(id);
        check.check_writable();
    }
    // The mapping entry is written before the backend makes anything, so
    // it names what there is to remove when create was killed before
    // state.json, or state.json is damaged.
    ContainerState target = stored.value_or(ContainerState{});
    if (force && entry) {
        target.id = id;
        target.vmid = entry->vmid;
        target.backend = entry->backend;
    }
    if (stored || entry) {
        auto backend = backend_of(target);
        if (stored) {
            ContainerState live = with_live_status(target, &*backend);
            if (!force && live.status != Status::stopped && live.status != Status::created)
                throw Error(Errc::invalid_state, id + ": cannot delete a container that is " +
                                                     std::string(to_string(live.status)) + " (use --force)");
        }
        backend->remove(ref(target), force);
    }
    // From here the container is gone; what is left is bookkeeping, and a
    // delete that fails now can be run again to its end.
    try {
        mappings_.begin().erase(id);
        if (stored) run_poststop(id, *stored);
        states_.remove(id);
    } catch (const Error& e) {
        throw e.with_context(id + ": the container is removed, but not its bookkeeping (run delete again)");
    }
}

// delete --force does not wait for a create that is stuck (in a hook, on a
// hung mount, in liblxc): a create that holds the lock, has not written
// state.json and has run for stuck_create seconds is killed (its hooks die
// with it), and what it made is removed as after any killed create. A
// younger create is given until then to finish (a healthy one takes well
// under a second; killed half-way, its poststop hooks would never run);
// other holders (start, kill, a create writing its state) are waited for.
FileLock Runtime::lock_stopping_create(const std::string& id) {
    constexpr std::chrono::seconds stuck_create{5};
    for (bool killed = false;;) {
        if (auto lock = states_.try_lock(id)) return std::move(*lock);
        auto creator = states_.creator(id);
        if (killed || !creator || creator->first == ::getpid() || states_.has_state(id)) return states_.lock(id);
        UniqueFd process = open_process(creator->first, creator->second);
        if (!process) {
            killed = true;  // it ended meanwhile: take the lock as it comes
            continue;
        }
        if (process_age(creator->second) < stuck_create) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        log::warning(id + ": its create (pid " + std::to_string(creator->first) + ") has not finished after " +
                     std::to_string(stuck_create.count()) + " s; killing it");
        if (::syscall(SYS_pidfd_send_signal, process.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH)
            throw_errno("kill the create of " + id, errno);
        pollfd exited{process.get(), POLLIN, 0};
        ::poll(&exited, 1, 10000);
        killed = true;
    }
}

// The poststop hooks, if the stored config can still be read.
void Runtime::run_poststop(const std::string& id, ContainerState state) const {
    std::optional<ContainerSpec> spec;
    try {
        spec = stored_spec(id);
    } catch (const Error& e) {
        log::warning(std::string(e.what()) + "; no poststop hooks run");
        return;
    }
    state.status = Status::stopped;
    run_hooks_warn(spec->hooks.poststop, "poststop", state);
}

boost::json::object Runtime::stored_config(const std::string& id) const {
    fs::path file = states_.container_dir(id) / stored_config_file;
    return read_json_object(file, Errc::failed);
}

ContainerSpec Runtime::stored_spec(const std::string& id) const {
    return oci::parse_config(stored_config(id));
}

int Runtime::exec(const std::string& id, const ExecOptions& options) {
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    state = with_live_status(state, &*backend);
    if (state.status != Status::running && state.status != Status::created)
        throw Error(Errc::invalid_state, id + ": cannot exec in a container that is " + std::string(to_string(state.status)));

    std::optional<std::string> process_json;
    if (options.process_file)
        process_json = *options.process_file == "-" ? read_file("/dev/stdin") : read_file(*options.process_file);
    if (options.pid_file) checked_pid_file(*options.pid_file);
    ExecConfig exec = build_exec_config(stored_config(id), options, process_json);
    ExecRequest request{*exec.spec.process, exec.config_json, options.console_socket, options.detach,
                        options.preserve_fds};
    ExecResult result = backend->exec(ref(state), request);
    if (options.pid_file) write_pid(*options.pid_file, result.pid);
    return result.exit_code.value_or(0);
}

std::vector<pid_t> Runtime::processes(const std::string& id) {
    ContainerState state = require_state(id);
    if (!state.init_start_time) return backend_of(state)->processes(ref(state));
    state = with_live_status(state);
    return state.status == Status::stopped ? std::vector<pid_t>{} : container_processes(state.pid);
}

void Runtime::pause(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    if (with_live_status(state, &*backend).status != Status::running)
        throw Error(Errc::invalid_state, id + ": container not running");
    backend->pause(ref(state));
}

void Runtime::resume(const std::string& id) {
    FileLock lock = states_.lock(id);
    ContainerState state = require_state(id);
    auto backend = backend_of(state);
    if (with_live_status(state, &*backend).status != Status::paused)
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
    // One backend object per backend and options, not one per container.
    std::map<std::pair<std::string, std::map<std::string, std::string>>, Plugin<Backend>> backends;
    auto live = [&](const ContainerState& state) {
        if (state.init_start_time) return with_live_status(state);
        PluginContext context = backend_context(state);
        auto key = std::pair{state.backend, context.options};
        auto it = backends.find(key);
        if (it == backends.end()) {
            make_plugin_dirs();
            it = backends.emplace(key, plugins_->load_backend(state.backend, context)).first;
        }
        return with_live_status(state, &*it->second);
    };
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
            *state = live(*state);
        } catch (const Error& e) {
            log::warning(id + ": status not live: " + e.what());
        }
        result.push_back(*state);
    }
    return result;
}

}  // namespace lxcri
