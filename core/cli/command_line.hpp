#pragma once

// The global part of the command line, `proxmox-lxcri [global options]
// <command> [command options]`: split off the command and parse the global
// flags, acting on nothing (main acts; tests/fuzz parses).

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lxcri::cli {

// The settings (config_keys) plus --config, --systemd-cgroup, --rootless,
// --help and --version.
boost::program_options::options_description global_options();

class CommandLine {
public:
    // `args` without the program name. Global flags come before the command,
    // as with runc; "--" ends them. Error(usage) for an unknown or malformed
    // global flag.
    explicit CommandLine(const std::vector<std::string>& args);
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    const boost::program_options::options_description& options() const { return options_; }
    // The global flags as parsed, for load_config (they refer to options()).
    const boost::program_options::parsed_options& parsed() const { return parsed_; }
    const boost::program_options::variables_map& flags() const { return flags_; }
    // The command's name (none when only flags were given) and its arguments.
    const std::optional<std::string>& command() const { return command_; }
    const std::vector<std::string>& command_args() const { return command_args_; }

private:
    boost::program_options::options_description options_;
    boost::program_options::parsed_options parsed_;
    boost::program_options::variables_map flags_;
    std::optional<std::string> command_;
    std::vector<std::string> command_args_;
};

}  // namespace lxcri::cli
