#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "util/fs.hpp"

#include <lxcri/error.hpp>

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_update(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("update options");
    options.add_options()
        ("resources,r", po::value<std::string>()->required(),
         "a runtime-spec linux.resources JSON file, '-' for stdin")
        ("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(),
            file = nonempty_path((*vm)["resources"].as<std::string>(), "--resources")](Context& context) {
        context.runtime().update(id, read_file(file == "-" ? "/dev/stdin" : file));
        return 0;
    };
}

const CommandRegistration registration{
    {"update", "apply new resource limits to a running container", "update --resources FILE|- <id>", parse_update}};

}  // namespace
}  // namespace lxcri::cli
