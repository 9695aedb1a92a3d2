#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "runtime/signals.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_kill(const Command& self, Context& context, const std::vector<std::string>& args) {
    po::options_description options("kill options");
    options.add_options()
        ("all,a", po::bool_switch(), "send the signal to every process of the container")
        ("id", po::value<std::string>()->required(), "container id")
        ("signal", po::value<std::string>()->default_value("SIGTERM"), "signal: 15, TERM or SIGTERM (default SIGTERM)");
    po::positional_options_description positional;
    positional.add("id", 1).add("signal", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return 0;
    int signal = parse_signal((*vm)["signal"].as<std::string>());
    context.runtime().kill((*vm)["id"].as<std::string>(), signal, (*vm)["all"].as<bool>());
    return 0;
}

const CommandRegistration registration{
    {"kill", "send a signal to a container's init (or all its processes)", "kill [--all] <id> [SIGNAL]", run_kill}};

}  // namespace
}  // namespace lxcri::cli
