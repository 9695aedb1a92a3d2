#pragma once

#include "config/config.hpp"
#include "plugin/plugin_loader.hpp"
#include "state/mapping_store.hpp"
#include "state/state_store.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

// The core's copy of the bundle's config.json in <root>/<id>/, out of the
// container's reach (unlike rt/, which the container's root can write).
inline constexpr const char* stored_config_file = "config.json";

struct CreateOptions {
    std::filesystem::path bundle = ".";
    std::optional<std::filesystem::path> pid_file;
    std::optional<std::filesystem::path> console_socket;
    unsigned preserve_fds = 0;  // fds 3.. of this process that the container process gets
};

struct ExecOptions {
    std::optional<std::filesystem::path> process_file;  // a runtime-spec process JSON ("-": stdin)
    std::vector<std::string> args;                      // else: the container's process with these args
    std::vector<std::string> env;                       // NAME=value, added or replacing
    std::optional<std::string> cwd;
    std::optional<std::string> user;                    // uid[:gid]
    std::vector<std::uint32_t> additional_gids;
    std::vector<std::string> capabilities;              // added to every set
    bool no_new_privileges = false;
    bool tty = false;
    std::optional<std::filesystem::path> console_socket;
    bool detach = false;
    std::optional<std::filesystem::path> pid_file;
    unsigned preserve_fds = 0;
};

// The container lifecycle: what the CLI commands call. Each method takes the
// container's lock; a failed create leaves state and mapping as they were.
class Runtime {
public:
    explicit Runtime(Config config);

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

    const PluginLoader& plugins() const { return plugins_; }
    const Config& config() const { return config_; }

private:
    PluginContext plugin_context(const std::string& name) const;
    Plugin<Backend> load_backend(const std::string& name) const;
    Plugin<Backend> backend_of(const ContainerState& state) const;
    ContainerRef ref(const ContainerState& state) const;
    ContainerState require_state(const std::string& id) const;
    ContainerState with_live_status(ContainerState state, Backend& backend) const;
    // The config.json the container was created from (kept in <root>/<id>/).
    boost::json::object stored_config(const std::string& id) const;
    ContainerSpec stored_spec(const std::string& id) const;

    Config config_;
    PluginLoader plugins_;
    StateStore states_;
    MappingStore mappings_;
};

// The directories searched for plugins: --plugin-dir entries, then the
// built-in directory next to the binary.
std::vector<std::filesystem::path> plugin_directories(const Config& config);

// Where the init helper and other executables of the runtime are.
std::filesystem::path libexec_directory();

}  // namespace lxcri
