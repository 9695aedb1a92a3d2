#include "bundle/config_generator.hpp"
#include "cli/command.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int write_spec(bool rootless, bool to_stdout, const std::optional<std::string>& bundle) {
    const std::string text = to_pretty_json(bundle::default_config(rootless, bundle::User{::geteuid(), ::getegid()}));
    if (to_stdout) {
        std::cout << text << std::flush;
        return 0;
    }
    const std::filesystem::path file = std::filesystem::path(bundle.value_or(".")) / "config.json";
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0)
        throw Error(Errc::already_exists, file.string() + ": already exists; remove it first");
    if (errno != ENOENT) throw_errno("stat " + file.string(), errno);
    write_file_atomic(file, text, 0644);
    return 0;
}

std::optional<Action> parse_spec(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("spec options");
    options.add_options()
        ("bundle,b", po::value<std::string>()->value_name("DIR"), "write config.json into this directory (default: the current one)")
        ("rootless", po::bool_switch(), "a config for a rootless container (user namespace, no network namespace)")
        ("stdout", po::bool_switch(), "print the config to stdout instead of writing config.json");
    auto vm = parse_command_args(self, args, options, {});
    if (!vm) return std::nullopt;
    if ((*vm)["stdout"].as<bool>() && vm->count("bundle"))
        throw Error(Errc::usage, "spec: use --stdout or --bundle, not both");
    std::optional<std::string> bundle;
    if (vm->count("bundle")) bundle = (*vm)["bundle"].as<std::string>();
    return [rootless = (*vm)["rootless"].as<bool>(), to_stdout = (*vm)["stdout"].as<bool>(), bundle](Context&) {
        return write_spec(rootless, to_stdout, bundle);
    };
}

const CommandRegistration registration{
    {"spec", "write a default config.json (as runc spec)", "spec [--bundle DIR] [--rootless] [--stdout]", parse_spec}};

}  // namespace
}  // namespace lxcri::cli
