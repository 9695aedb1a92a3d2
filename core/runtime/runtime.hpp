#pragma once

#include "config/config.hpp"
#include "oci/parser.hpp"
#include "plugin/plugin_loader.hpp"
#include "runtime/create_deadline.hpp"
#include "runtime/exec_config.hpp"
#include "state/mapping_store.hpp"
#include "state/state_store.hpp"
#include "util/fs.hpp"

#include <lxcri/undo.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

struct CreateOptions {
    std::filesystem::path bundle = ".";
    std::optional<std::filesystem::path> pid_file;
    std::optional<std::filesystem::path> console_socket;
    unsigned preserve_fds = 0;  // fds 3.. of this process that the container process gets
};

// The container lifecycle: what the CLI commands call. Each method takes the
// container's lock; a failed create leaves state and mapping as they were.
class Runtime {
public:
    // With the plugins of plugin_directories(config).
    explicit Runtime(Config config);
    // With the plugins of `plugins` (a unit test's scripted ones).
    Runtime(Config config, std::unique_ptr<PluginSource> plugins);

    // `wait_pid`, when given, receives the pid-file process (a child of this
    // process until it exits), or 0 when the backend runs none.
    ContainerState create(const std::string& id, const CreateOptions& options, pid_t* wait_pid = nullptr);
    void start(const std::string& id);
    ContainerState state(const std::string& id);  // status and pid are live
    void kill(const std::string& id, int signal, bool all);
    void remove(const std::string& id, bool force);
    std::vector<ContainerState> list();

    // Runs a process in the container; returns its exit status (0 when detached).
    int exec(const std::string& id, const ExecOptions& options);
    std::vector<pid_t> processes(const std::string& id);
    void pause(const std::string& id);
    void resume(const std::string& id);
    // `resources_json`: a runtime-spec linux.resources object.
    void update(const std::string& id, const std::string& resources_json);

    // The backend `create` would use: the configured one, with `auto`
    // resolved (pct where pct is installed, else lxc, else dry-run).
    std::string backend_name() const;

    const Config& config() const { return config_; }

private:
    // The steps of create, in order.
    oci::BundleConfig read_bundle(const std::filesystem::path& bundle) const;
    FileLock claim_directory(const std::string& id, Undo& undo);
    Vmid allocate(const ContainerState& state, Backend& backend, const MappingStrategy& mapping, Undo& undo);
    void store_copies(const std::string& id, const std::string& config_json, const std::string& backend_id);
    CreateResult create_with_retry(ContainerState& state, Backend& backend, const MappingStrategy& mapping,
                                   const oci::BundleConfig& bundle, const CreateOptions& options, Undo& undo);
    void run_create_hooks(const ContainerSpec& spec, const ContainerState& state) const;
    [[noreturn]] void undo_timed_out_create(const CreateDeadline::Undo& timed_out);
    FileLock lock_stopping_create(const std::string& id);
    void write_pid_file(const ContainerState& state, const CreateResult& result, const CreateOptions& options,
                        pid_t* wait_pid) const;

    PluginContext plugin_context(const std::string& name) const;
    void make_plugin_dirs() const;
    Plugin<Backend> load_backend(const std::string& name) const;
    Plugin<Backend> backend_of(const ContainerState& state) const;
    PluginContext backend_context(const ContainerState& state) const;  // with the container's stored options
    ContainerRef ref(const ContainerState& state) const;
    ContainerState require_state(const std::string& id) const;
    // The live status: told by the core when it knows the init
    // (ContainerState::init_start_time), else the backend's (`loaded`, or
    // loaded for this).
    ContainerState with_live_status(ContainerState state, Backend* loaded = nullptr) const;
    // kill's signal: sent by the core when it knows the init, else by the backend.
    // `loaded`: the container's backend when the caller has it loaded.
    void signal(const ContainerState& state, int signal, bool all, Backend* loaded = nullptr) const;
    void run_poststop(const std::string& id, ContainerState state) const;
    void record_status(const ContainerState& state) const;
    // The config.json the container was created from (kept in <root>/<id>/).
    boost::json::object stored_config(const std::string& id) const;
    ContainerSpec stored_spec(const std::string& id) const;

    Config config_;
    std::unique_ptr<PluginSource> plugins_;
    StateStore states_;
    MappingStore mappings_;
};

// The directories searched for plugins: --plugin-dir entries, then the
// built-in directory next to the binary.
std::vector<std::filesystem::path> plugin_directories(const Config& config);

// Where the init helper and other executables of the runtime are.
std::filesystem::path libexec_directory();

// Whether a create or delete with `config` runs on plugins built into this
// executable (plugin/builtin_plugins.hpp): the configured backend and
// mapping are found as built-in ones. Loads nothing, logs nothing, changes
// nothing: the static proxmox-lxcri asks before it runs either, and hands
// the command to the plugin host at once when not.
bool runs_on_built_in_plugins(const Config& config);

}  // namespace lxcri
