// proxmox-lxcri: splits the command line into global flags and a command,
// loads the configuration, sets up logging and runs the command. Every
// failure ends here as one lxcri::Error: one message, one exit code.

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "config/config_loader.hpp"
#include "config/option_error.hpp"
#include "log/logging.hpp"
#include "state/state_store.hpp"

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

}  // namespace

int main(int argc, char** argv) {
    // A hook or helper that exits before reading its stdin must not kill us.
    ::signal(SIGPIPE, SIG_IGN);
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
        lxcri::cli::Context context(config);
        return (*action)(context);
    } catch (const lxcri::Error& e) {
        lxcri::log::failure(e.what());
        return static_cast<int>(e.code());
    } catch (const po::error& e) {
        lxcri::log::failure(lxcri::option_error_message(e));
        return static_cast<int>(lxcri::Errc::usage);
    } catch (const std::exception& e) {
        lxcri::log::failure(std::string("internal error: ") + e.what());
        return 1;
    }
}
