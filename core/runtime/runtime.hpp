#pragma once

#include "config/config.hpp"
#include "plugin/plugin_loader.hpp"
#include "state/mapping_store.hpp"
#include "state/state_store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

struct CreateOptions {
    std::filesystem::path bundle = ".";
    std::optional<std::filesystem::path> pid_file;
    std::optional<std::filesystem::path> console_socket;
};

// The container lifecycle: what the CLI commands call. Each method takes the
// container's lock; a failed create leaves state and mapping as they were.
class Runtime {
public:
    explicit Runtime(Config config);

    ContainerState create(const std::string& id, const CreateOptions& options);
    void start(const std::string& id);
    ContainerState state(const std::string& id);  // status and pid are live
    void kill(const std::string& id, int signal, bool all);
    void remove(const std::string& id, bool force);
    std::vector<ContainerState> list();

    // The backend `create` would use: the configured one, with `auto`
    // resolved (pct where pct is installed, else lxc, else dry-run).
    std::string backend_name() const;

    const PluginLoader& plugins() const { return plugins_; }
    const Config& config() const { return config_; }

private:
    PluginContext plugin_context(const std::string& name) const;
    Plugin<Backend> load_backend(const std::string& name) const;
    ContainerRef ref(const ContainerState& state) const;
    ContainerState require_state(const std::string& id) const;
    ContainerState with_live_status(ContainerState state, Backend& backend) const;

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
