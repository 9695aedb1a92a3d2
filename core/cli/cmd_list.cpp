#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int print_list(Context& context, const std::string& format, bool quiet) {
    auto states = context.runtime().list();
    if (quiet) {
        for (const auto& state : states) std::cout << state.id << "\n";
    } else if (format == "json") {
        boost::json::array array;
        for (const auto& state : states) array.push_back(state.to_json());
        std::cout << boost::json::serialize(array) << "\n";
    } else {
        std::printf("%-24s %-8s %-10s %-10s %-10s %-32s %s\n", "ID", "PID", "STATUS", "VMID", "BACKEND", "CREATED",
                    "BUNDLE");
        for (const auto& state : states)
            std::printf("%-24s %-8d %-10s %-10u %-10s %-32s %s\n", state.id.c_str(), state.pid,
                        std::string(to_string(state.status)).c_str(), state.vmid, state.backend.c_str(),
                        state.created.c_str(), state.bundle.c_str());
    }
    return 0;
}

std::optional<Action> parse_list(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("list options");
    options.add_options()
        ("format,f", po::value<std::string>()->default_value("table"), "table or json")
        ("quiet,q", po::bool_switch(), "print only the ids");
    auto vm = parse_command_args(self, args, options, {});
    if (!vm) return std::nullopt;
    std::string format = (*vm)["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error(Errc::usage, "list: --format must be table or json");
    return [format, quiet = (*vm)["quiet"].as<bool>()](Context& context) { return print_list(context, format, quiet); };
}

const CommandRegistration registration{
    {"list", "list containers", "list [--format table|json] [--quiet]", parse_list}};

}  // namespace
}  // namespace lxcri::cli
