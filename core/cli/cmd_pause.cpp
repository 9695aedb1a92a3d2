#include "cli/command.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

// pause and resume: the same flags, one runtime call each.
std::optional<Action> parse_freeze(const Command& self, const std::vector<std::string>& args) {
    const std::string& name = self.name;
    po::options_description options(name + " options");
    options.add_options()("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(), pause = name == "pause"](Context& context) {
        if (pause)
            context.runtime().pause(id);
        else
            context.runtime().resume(id);
        return 0;
    };
}

const CommandRegistration pause_registration{
    {"pause", "freeze every process of a running container", "pause <id>", parse_freeze}};
const CommandRegistration resume_registration{
    {"resume", "thaw a paused container", "resume <id>", parse_freeze}};

}  // namespace
}  // namespace lxcri::cli
