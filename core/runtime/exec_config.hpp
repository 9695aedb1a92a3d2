#pragma once

// What `exec` runs, built once: the process from --process, or the
// container's own process with the command line's changes, put into the
// container's config.json and checked by the same rules as a bundle's
// config.json. The backend hands exactly this text to the init helper.

#include <lxcri/container_spec.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

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

struct ExecConfig {
    std::string config_json;  // the container's config.json with the process to run
    ContainerSpec spec;       // parsed from config_json; spec.process is that process
};

// `container_config`: the container's config.json (the core's copy);
// `process_json`: the content of options.process_file, when it is given.
// Error(usage) without a command, Error(invalid_input) for a bad process.
ExecConfig build_exec_config(boost::json::object container_config, const ExecOptions& options,
                             const std::optional<std::string>& process_json);

}  // namespace lxcri
