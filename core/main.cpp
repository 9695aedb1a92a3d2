// proxmox-lxcri: splits the command line into global flags and a command,
// loads the configuration, sets up logging and runs the command. Every
// failure ends here as one lxcri::Error: one message, one exit code.

#include "cli/command.hpp"
#include "config/config_loader.hpp"
#include "config/option_error.hpp"
#include "log/logging.hpp"
#include "state/state_store.hpp"

#include <lxcri/error.hpp>

#include <csignal>
#include <iostream>

namespace po = boost::program_options;

namespace {

po::options_description global_options() {
    po::options_description options("Global options");
    options.add(lxcri::config_keys(true));
    options.add_options()
        ("config", po::value<std::string>(), "operator config file (default /etc/proxmox-lxcri/config)")
        ("systemd-cgroup", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("rootless", po::value<std::string>(), "accepted for runc compatibility (true|false|auto); no effect")
        ("help,h", "show this help")
        ("version,v", "print the version");
    return options;
}

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

// Global flags come before the command, as with runc. Returns the index of
// the command in argv (argc when there is none).
int find_command(int argc, char** argv, const po::options_description& options) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const std::vector<lxcri::cli::Word> words = lxcri::cli::classify_words(args, options);
    for (std::size_t i = 0; i < words.size(); ++i) {
        switch (words[i]) {
        case lxcri::cli::Word::unknown_option:
            throw lxcri::Error(lxcri::Errc::usage, "unknown global option '" + args[i] + "' (see --help)");
        case lxcri::cli::Word::separator: return static_cast<int>(i) + 2;
        case lxcri::cli::Word::operand: return static_cast<int>(i) + 1;
        default: break;
        }
    }
    return argc;
}

}  // namespace

int main(int argc, char** argv) {
    // A hook or helper that exits before reading its stdin must not kill us.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        po::options_description options = global_options();
        int command_index = find_command(argc, argv, options);
        std::vector<std::string> global_args(argv + 1, argv + std::min(command_index, argc));
        if (!global_args.empty() && global_args.back() == "--") global_args.pop_back();

        po::parsed_options parsed(&options);
        po::variables_map flags;
        try {
            parsed = po::command_line_parser(global_args).options(options).run();
            po::store(parsed, flags);
        } catch (const po::error& e) {
            throw lxcri::Error(lxcri::Errc::usage, lxcri::option_error_message(e));
        }
        if (flags.count("version")) {
            print_version();
            return 0;
        }
        if (flags.count("help") || command_index >= argc) {
            print_usage(options);
            return command_index >= argc && !flags.count("help") ? 2 : 0;
        }

        // Log where the caller asked before anything else can fail, so that a
        // bad config file is reported in --log too. An empty --log is
        // refused by load_config, on stderr.
        lxcri::log::Options early;
        if (flags.count("log") && !flags["log"].as<std::string>().empty()) early.file = flags["log"].as<std::string>();
        if (flags.count("log-format")) early.format = flags["log-format"].as<std::string>();
        lxcri::log::init(early);

        lxcri::Config config = lxcri::load_config(parsed);
        lxcri::log::init({config.log_file, config.log_format, config.debug});

        const lxcri::cli::Command& command = lxcri::cli::command(argv[command_index]);
        lxcri::cli::Context context(config);
        return command.run(command, context, std::vector<std::string>(argv + command_index + 1, argv + argc));
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
