#include "cli/command_line.hpp"

#include "cli/command.hpp"
#include "config/config_loader.hpp"
#include "config/option_error.hpp"

#include <lxcri/error.hpp>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

// The index of the command in `args` (args.size() when there is none).
std::size_t find_command(const std::vector<std::string>& args, const po::options_description& options) {
    const std::vector<Word> words = classify_words(args, options);
    for (std::size_t i = 0; i < words.size(); ++i) {
        switch (words[i]) {
        case Word::unknown_option: throw Error(Errc::usage, "unknown global option '" + args[i] + "' (see --help)");
        case Word::separator: return i + 1;
        case Word::operand: return i;
        default: break;
        }
    }
    return args.size();
}

}  // namespace

po::options_description global_options() {
    po::options_description options("Global options");
    options.add(config_keys(true));
    options.add_options()
        ("config", po::value<std::string>(), "operator config file (default /etc/proxmox-lxcri/config)")
        ("systemd-cgroup", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("rootless", po::value<std::string>(), "accepted for runc compatibility (true|false|auto); no effect")
        ("help,h", "show this help")
        ("version,v", "print the version");
    return options;
}

CommandLine::CommandLine(const std::vector<std::string>& args) : options_(global_options()), parsed_(&options_) {
    std::size_t command_index = find_command(args, options_);
    std::vector<std::string> global_args(args.begin(), args.begin() + std::min(command_index, args.size()));
    if (!global_args.empty() && global_args.back() == "--") global_args.pop_back();
    if (command_index < args.size()) {
        command_ = args[command_index];
        command_args_.assign(args.begin() + command_index + 1, args.end());
    }
    try {
        parsed_ = po::command_line_parser(global_args).options(options_).run();
        po::store(parsed_, flags_);
    } catch (const po::error& e) {
        throw Error(Errc::usage, option_error_message(e));
    }
}

}  // namespace lxcri::cli
