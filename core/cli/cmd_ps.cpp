#include "cli/command.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>
#include <lxcri/process.hpp>

#include <boost/json.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int print_processes(Context& context, const std::string& id, const std::string& format,
                    const std::optional<std::vector<std::string>>& ps_args) {
    auto pids = context.runtime().processes(id);
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
    if (ps_args)
        argv.insert(argv.end(), ps_args->begin(), ps_args->end());
    else
        argv.push_back("-f");
    argv.insert(argv.end(), {"-p", list});
    auto result = run_process("ps", argv);
    std::cout << result.out;
    std::cerr << result.err;
    return result.exit_code;
}

std::optional<Action> parse_ps(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("ps options");
    options.add_options()
        ("format,f", po::value<std::string>()->default_value("table"), "table or json (the host pids)")
        ("id", po::value<std::string>()->required(), "container id")
        ("ps-args", po::value<std::vector<std::string>>(), "arguments for ps(1) (table format)");
    po::positional_options_description positional;
    positional.add("id", 1).add("ps-args", -1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    std::string format = (*vm)["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error(Errc::usage, "ps: --format must be table or json");
    std::optional<std::vector<std::string>> ps_args;
    if (vm->count("ps-args")) ps_args = (*vm)["ps-args"].as<std::vector<std::string>>();
    return [id = (*vm)["id"].as<std::string>(), format, ps_args](Context& context) {
        return print_processes(context, id, format, ps_args);
    };
}

const CommandRegistration registration{
    {"ps", "list the processes of a container", "ps [--format table|json] <id> [ps options]", parse_ps}};

}  // namespace
}  // namespace lxcri::cli
