// proxmox-lxcri: splits the command line into global flags and a command,
// loads the configuration, sets up logging and runs the command. Every
// failure ends here as one lxcri::Error: one message, one exit code.
//
// Two executables are built of this file (core/CMakeLists.txt): the static
// proxmox-lxcri (LXCRI_STATIC_FRONT), which runs a few commands itself and
// leaves the rest to proxmox-lxcri-host, which loads plugins
// (plugin/plugin_host.hpp).

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "config/config_loader.hpp"
#include "config/option_error.hpp"
#include "log/logging.hpp"
#include "plugin/plugin_host.hpp"
#include "runtime/runtime.hpp"
#include "state/state_store.hpp"
#include "util/fs.hpp"

#include <lxcri/error.hpp>

#include <csignal>
#include <iostream>

namespace po = boost::program_options;

namespace {

void print_usage(const po::options_description& options) {
    std::cout << "Usage: proxmox-lxcri [global options] <command> [command options]\n\n"
                 "An OCI runtime for Proxmox VE containers (runc's command line).\n\nCommands:\n";
    for (const auto& [name, command] : lxcri::cli::commands()) {
        std::string padded = name;
        padded.resize(12, ' ');
        std::cout << "  " << padded << command.summary << "\n";
    }
    std::cout << "\n" << options << "\n'proxmox-lxcri <command> --help' shows a command's options.\n";
}

void print_version() {
    std::cout << "proxmox-lxcri version " << LXCRI_VERSION << "\n"
              << "commit: " << LXCRI_COMMIT << "\n"
              << "spec: " << lxcri::state_oci_version << "\n";
}

#ifdef LXCRI_STATIC_FRONT
// The commands the static executable runs itself: those that engines call
// over and over (conmon, the containerd shim, CRI's status) and the rest of
// a container's life, create and delete. state, start and kill need no
// plugin for a container whose init the core knows; create and delete run
// here when the configured backend and mapping are built in
// (plugin/builtin_plugins.hpp), and go to the host at once otherwise. Each
// loads its plugins before it changes anything, so a plugin that is not
// built in after all (a container of another backend) hands the whole
// command to the host then (docs/ARCHITECTURE.md, "Two executables").
// Every other command is the host's.
bool runs_here(const std::string& command) {
    return command == "state" || command == "start" || command == "kill" || command == "create" ||
           command == "delete";
}
#endif

int report(const lxcri::Error& e) {
    lxcri::log::failure(e.what());
    return static_cast<int>(e.code());
}

}  // namespace

int main(int argc, char** argv) {
    // A hook or helper that exits before reading its stdin must not kill us.
    ::signal(SIGPIPE, SIG_IGN);
#ifdef LXCRI_HOST_TO_BINDIR
    lxcri::set_program_dir_from_executable(LXCRI_HOST_TO_BINDIR);
#endif
#ifdef LXCRI_STATIC_FRONT
    lxcri::plugin_host::delegate_plugins();
#endif
    try {
        lxcri::cli::CommandLine line(std::vector<std::string>(argv + 1, argv + argc));
        const po::variables_map& flags = line.flags();
        if (flags.count("version")) {
            print_version();
            return 0;
        }
        if (flags.count("help") || !line.command()) {
            print_usage(line.options());
            return !line.command() && !flags.count("help") ? 2 : 0;
        }
#ifdef LXCRI_STATIC_FRONT
        if (!runs_here(*line.command())) lxcri::plugin_host::exec(argv);
#endif

        // Log where the caller asked before anything else can fail, so that a
        // bad config file is reported in --log too. An empty --log is
        // refused by load_config, on stderr.
        lxcri::log::Options early;
        if (flags.count("log") && !flags["log"].as<std::string>().empty()) early.file = flags["log"].as<std::string>();
        if (flags.count("log-format")) early.format = flags["log-format"].as<std::string>();
        lxcri::log::init(early);

        lxcri::Config config = lxcri::load_config(line.parsed());
        lxcri::log::init({config.log_file, config.log_format, config.debug});

        const lxcri::cli::Command& command = lxcri::cli::command(*line.command());
        auto action = command.parse(command, line.command_args());
        if (!action) return 0;  // --help
#ifdef LXCRI_STATIC_FRONT
        if ((command.name == "create" || command.name == "delete") && !lxcri::runs_on_built_in_plugins(config))
            lxcri::plugin_host::exec(argv);
#endif
        lxcri::cli::Context context(config);
        return (*action)(context);
    } catch (const lxcri::plugin_host::Needed&) {
        try {
            lxcri::plugin_host::exec(argv);
        } catch (const lxcri::Error& e) {
            return report(e);
        }
    } catch (const lxcri::Error& e) {
        return report(e);
    } catch (const po::error& e) {
        lxcri::log::failure(lxcri::option_error_message(e));
        return static_cast<int>(lxcri::Errc::usage);
    } catch (const std::exception& e) {
        lxcri::log::failure(std::string("internal error: ") + e.what());
        return 1;
    }
}
