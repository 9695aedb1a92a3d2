#include "cli/command.hpp"

#include "config/option_error.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::map<std::string, Command>& registry() {
    static std::map<std::string, Command> instance;
    return instance;
}

}  // namespace

Context::Context(Config config) : config_(std::move(config)) {}
Context::~Context() = default;

Runtime& Context::runtime() {
    if (!runtime_) runtime_ = std::make_unique<Runtime>(config_);
    return *runtime_;
}

CommandRegistration::CommandRegistration(Command command) {
    std::string name = command.name;
    registry().emplace(std::move(name), std::move(command));
}

const std::map<std::string, Command>& commands() { return registry(); }

const Command& command(const std::string& name) {
    auto it = registry().find(name);
    if (it == registry().end()) throw Error(Errc::usage, "unknown command '" + name + "' (see proxmox-lxcri --help)");
    return it->second;
}

std::optional<po::variables_map> parse_command_args(const Command& command, const std::vector<std::string>& args,
                                                    const po::options_description& options,
                                                    const po::positional_options_description& positional) {
    po::options_description all = options;
    all.add_options()("help,h", "show this help");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help")) {
            std::cout << "Usage: proxmox-lxcri " << command.usage << "\n\n" << command.summary << "\n\n" << all;
            return std::nullopt;
        }
        po::notify(vm);
    } catch (const po::required_option& e) {
        // An operand (positional) is named as the usage shows it: <id>.
        std::string name = e.get_option_name();
        name.erase(0, name.find_first_not_of('-'));
        for (unsigned i = 0; i < positional.max_total_count() && i < 16; ++i)
            if (positional.name_for_position(i) == name)
                throw Error(Errc::usage, command.name + ": missing <" + name + ">; usage: proxmox-lxcri " + command.usage);
        throw Error(Errc::usage, command.name + ": " + option_error_message(e));
    } catch (const po::error& e) {
        throw Error(Errc::usage, command.name + ": " + option_error_message(e));
    }
    return vm;
}

}  // namespace lxcri::cli
