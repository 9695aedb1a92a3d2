#include "cli/command.hpp"
#include "cli/create_options.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_create(const Command& self, Context& context, const std::vector<std::string>& args) {
    po::options_description options("create options");
    add_create_options(options);
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return 0;
    context.runtime().create((*vm)["id"].as<std::string>(), create_options(*vm));
    return 0;
}

const CommandRegistration registration{
    {"create", "create a container from an OCI bundle (process.args waits for start)",
     "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] <id>", run_create}};

}  // namespace
}  // namespace lxcri::cli
