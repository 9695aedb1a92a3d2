#include "cli/command.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int print_plugins(Context& context, const std::string& format) {
    // Listing loads every plugin (to read its version and description);
    // a broken one is listed with its error instead of failing the command.
    PluginLoader loader(plugin_directories(context.config()));
    boost::json::array array;
    if (format == "table") std::printf("%-8s %-12s %-8s %s\n", "KIND", "NAME", "VERSION", "DESCRIPTION");
    for (const auto& file : loader.discover()) {
        boost::json::object entry{{"kind", to_string(file.kind)}, {"name", file.name}, {"path", file.path.string()}};
        std::string version("-"), description;
        try {
            PluginDescription d = loader.describe(file);
            version = d.version;
            description = d.description;
            entry["version"] = d.version;
            entry["description"] = d.description;
            entry["apiVersion"] = d.api_version;
        } catch (const Error& e) {
            log::warning(e.what());
            entry["error"] = e.what();
            description.append("ERROR: ").append(e.what());
        }
        if (format == "table")
            std::printf("%-8s %-12s %-8s %s\n", std::string(to_string(file.kind)).c_str(), file.name.c_str(),
                        version.c_str(), description.c_str());
        array.push_back(std::move(entry));
    }
    if (format == "json") std::cout << boost::json::serialize(array) << "\n";
    return 0;
}

std::optional<Action> parse_plugins(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("plugins options");
    options.add_options()("format,f", po::value<std::string>()->default_value("table"), "table or json");
    auto vm = parse_command_args(self, args, options, {});
    if (!vm) return std::nullopt;
    std::string format = (*vm)["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error(Errc::usage, "plugins: --format must be table or json");
    return [format](Context& context) { return print_plugins(context, format); };
}

const CommandRegistration registration{
    {"plugins", "list the installed backend and mapping plugins", "plugins [--format table|json]", parse_plugins}};

}  // namespace
}  // namespace lxcri::cli
