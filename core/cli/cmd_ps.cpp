#include "cli/command.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>
#include <lxcri/process.hpp>

#include <boost/json.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_ps(const Command& self, Context& context, const std::vector<std::string>& args) {
    po::options_description options("ps options");
    options.add_options()
        ("format,f", po::value<std::string>()->default_value("table"), "table or json (the host pids)")
        ("id", po::value<std::string>()->required(), "container id")
        ("ps-args", po::value<std::vector<std::string>>(), "arguments for ps(1) (table format)");
    po::positional_options_description positional;
    positional.add("id", 1).add("ps-args", -1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return 0;
    std::string format = (*vm)["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error(Errc::usage, "ps: --format must be table or json");
    auto pids = context.runtime().processes((*vm)["id"].as<std::string>());
    if (format == "json") {
        boost::json::array array;
        for (pid_t pid : pids) array.push_back(pid);
        std::cout << boost::json::serialize(array) << "\n";
        return 0;
    }
    if (pids.empty()) return 0;
    std::string list;
    for (pid_t pid : pids) list += (list.empty() ? "" : ",") + std::to_string(pid);
    std::vector<std::string> argv{"ps"};
    if (vm->count("ps-args"))
        for (const auto& a : (*vm)["ps-args"].as<std::vector<std::string>>()) argv.push_back(a);
    else
        argv.push_back("-f");
    argv.insert(argv.end(), {"-p", list});
    auto result = run_process("ps", argv);
    std::cout << result.out;
    std::cerr << result.err;
    return result.exit_code;
}

const CommandRegistration registration{
    {"ps", "list the processes of a container", "ps [--format table|json] <id> [ps options]", run_ps}};

}  // namespace
}  // namespace lxcri::cli
