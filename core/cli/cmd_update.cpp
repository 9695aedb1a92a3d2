#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "util/fs.hpp"

#include <lxcri/error.hpp>

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_update(const Command& self, Context& context, const std::vector<std::string>& args) {
    po::options_description options("update options");
    options.add_options()
        ("resources,r", po::value<std::string>()->required(),
         "a runtime-spec linux.resources JSON file, '-' for stdin")
        ("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return 0;
    fs::path file = nonempty_path((*vm)["resources"].as<std::string>(), "--resources");
    context.runtime().update((*vm)["id"].as<std::string>(), read_file(file == "-" ? "/dev/stdin" : file));
    return 0;
}

const CommandRegistration registration{
    {"update", "apply new resource limits to a running container", "update --resources FILE|- <id>", run_update}};

}  // namespace
}  // namespace lxcri::cli
