#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "runtime/signals.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_kill(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("kill options");
    options.add_options()
        ("all,a", po::bool_switch(), "send the signal to every process of the container")
        ("id", po::value<std::string>()->required(), "container id")
        ("signal", po::value<std::string>()->default_value("SIGTERM"), "signal: 15, TERM or SIGTERM (default SIGTERM)");
    po::positional_options_description positional;
    positional.add("id", 1).add("signal", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(), signal = parse_signal((*vm)["signal"].as<std::string>()),
            all = (*vm)["all"].as<bool>()](Context& context) {
        context.runtime().kill(id, signal, all);
        return 0;
    };
}

const CommandRegistration registration{
    {"kill", "send a signal to a container's init (or all its processes)", "kill [--all] <id> [SIGNAL]", parse_kill}};

}  // namespace
}  // namespace lxcri::cli
