#include "bundle/bundle_generator.hpp"
#include "bundle/validator.hpp"
#include "cli/command.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

const Command create_command{
    "bundle create", "make an OCI bundle: rootfs/ (copied, extracted, from an image or a skeleton) and config.json",
    "bundle create <path> [--rootfs DIR|ARCHIVE | --image REF [--platform OS/ARCH]] [--config TEMPLATE] [options]", {}};
const Command validate_command{
    "bundle validate", "check an OCI bundle; prints each problem, exits 0 only when it is valid",
    "bundle validate [<path>] [--format text|json] [--quiet]", {}};

std::vector<std::string> strings(const po::variables_map& vm, const char* name) {
    return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>();
}

bundle::ConfigOptions config_options(const po::variables_map& vm) {
    bundle::ConfigOptions config;
    if (vm.count("config")) config.template_path = nonempty_path(vm["config"].as<std::string>(), "--config");
    config.rootless = vm["rootless"].as<bool>();
    config.rootless_host_ids = {::geteuid(), ::getegid()};
    if (vm.count("args") && vm.count("arg"))
        throw Error(Errc::usage, "bundle create: use --args or --arg, not both");
    for (const auto& list : strings(vm, "args")) {
        auto args = bundle::split_args(list);
        config.args.insert(config.args.end(), args.begin(), args.end());
    }
    for (const auto& arg : strings(vm, "arg")) config.args.push_back(arg);
    if (vm.count("entrypoint")) {
        const std::string entrypoint = vm["entrypoint"].as<std::string>();
        config.entrypoint = entrypoint.empty() ? std::vector<std::string>() : bundle::split_args(entrypoint);
    }
    for (const auto& entry : strings(vm, "env")) {
        bundle::parse_key_value(entry, "--env");
        config.env.push_back(entry);
    }
    if (vm.count("cwd")) {
        config.cwd = vm["cwd"].as<std::string>();
        if (config.cwd->empty() || config.cwd->front() != '/')
            throw Error(Errc::invalid_input, "--cwd '" + *config.cwd + "': must be an absolute path");
    }
    if (vm.count("hostname")) config.hostname = vm["hostname"].as<std::string>();
    if (vm.count("user")) config.user = bundle::parse_user(vm["user"].as<std::string>());
    if (vm.count("memory")) config.memory = bundle::parse_memory(vm["memory"].as<std::string>());
    if (vm.count("cpus")) config.cpus = bundle::parse_cpus(vm["cpus"].as<std::string>());
    config.readonly = vm["readonly"].as<bool>();
    for (const auto& mount : strings(vm, "mount")) config.mounts.push_back(bundle::parse_mount(mount));
    for (const auto& annotation : strings(vm, "annotation"))
        config.annotations.push_back(bundle::parse_key_value(annotation, "--annotation"));
    return config;
}

// "bundle b: config.json and rootfs/ with 1234 entries (from alpine.tar)":
// what a user at a terminal sees after bundle create.
std::string creation_summary(const bundle::CreateOptions& create) {
    std::uint64_t entries = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(create.path / "rootfs", fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec))
        ++entries;
    std::string from = create.image ? *create.image : create.rootfs ? create.rootfs->string() : "an empty skeleton";
    return "bundle " + create.path.string() + ": config.json and rootfs/ with " + std::to_string(entries) +
           " entries (from " + from + ")";
}

std::optional<Action> parse_create(const std::vector<std::string>& args) {
    po::options_description options("bundle create options");
    options.add_options()
        ("rootfs", po::value<std::string>()->value_name("SRC"), "directory to copy, or tar archive to extract (.tar, .tar.gz, "
                                             ".tar.zst, .tar.xz; recognised by content); default: an empty skeleton")
        ("image", po::value<std::string>()->value_name("REF"), "the rootfs and defaults of an image: oci:DIR[:TAG|@DIGEST], "
                                                 "oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], or a pulled docker://NAME[:TAG]")
        ("platform", po::value<std::string>()->value_name("OS/ARCH[/VARIANT]"), "the image of an index to use (default: this host's)")
        ("entrypoint", po::value<std::string>()->value_name("A,B,.."), "replaces the image's Entrypoint and drops its Cmd "
                                                                       "(--args gives a new one); '' for none")
        ("config", po::value<std::string>()->value_name("TEMPLATE"), "start from this config.json; the options below override it")
        ("force", po::bool_switch(), "replace an existing non-empty <path>")
        ("reflink", po::bool_switch(), "clone the files of a directory --rootfs (btrfs, xfs; fails elsewhere)")
        ("link", po::bool_switch(), "hard-link the files of a directory --rootfs: fast, but the bundle then "
                                    "SHARES its files with the source")
        ("quiet,q", po::bool_switch(), "no progress line and no summary (there are none when not on a terminal)")
        ("args", po::value<std::vector<std::string>>()->value_name("A,B,.."), "process.args, comma separated: /bin/echo,hello")
        ("arg", po::value<std::vector<std::string>>()->value_name("ARG"), "one element of process.args (repeatable; "
                                                                          "for arguments with commas)")
        ("env", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"), "KEY=VALUE in process.env (repeatable)")
        ("cwd", po::value<std::string>()->value_name("DIR"), "process.cwd (absolute)")
        ("hostname", po::value<std::string>()->value_name("NAME"), "hostname")
        ("user", po::value<std::string>()->value_name("UID:GID"), "UID:GID of the process")
        ("memory", po::value<std::string>()->value_name("BYTES"), "memory limit in bytes, suffixes k, m, g, t allowed")
        ("cpus", po::value<std::string>()->value_name("N"), "CPU limit, e.g. 1.5 (a CFS quota per 100 ms period)")
        ("readonly", po::bool_switch(), "read-only root filesystem")
        ("mount", po::value<std::vector<std::string>>()->value_name("SRC:DST[:OPTS]"), "bind mount SRC:DST[:OPTIONS] (repeatable; "
                                                         "options comma separated, e.g. ro,nosuid)")
        ("annotation", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"), "KEY=VALUE in annotations (repeatable)")
        ("rootless", po::bool_switch(), "a config for a rootless container, as runc spec --rootless")
        ("path", po::value<std::string>()->value_name("DIR"), "bundle directory");
    po::positional_options_description positional;
    positional.add("path", 1);
    auto vm = parse_command_args(create_command, args, options, positional);
    if (!vm) return std::nullopt;
    if (!vm->count("path")) throw Error(Errc::usage, "bundle create: missing <path> (see bundle create --help)");
    if ((*vm)["link"].as<bool>() && (*vm)["reflink"].as<bool>())
        throw Error(Errc::usage, "bundle create: use --link or --reflink, not both");

    bundle::CreateOptions create;
    create.path = nonempty_path((*vm)["path"].as<std::string>(), "bundle create: <path>");
    if (vm->count("rootfs") && vm->count("image")) throw Error(Errc::usage, "bundle create: use --rootfs or --image, not both");
    if (vm->count("rootfs")) create.rootfs = nonempty_path((*vm)["rootfs"].as<std::string>(), "--rootfs");
    if (vm->count("image")) create.image = (*vm)["image"].as<std::string>();
    if (vm->count("platform")) create.platform = (*vm)["platform"].as<std::string>();
    if ((*vm)["link"].as<bool>()) create.mode = bundle::CopyMode::link;
    if ((*vm)["reflink"].as<bool>()) create.mode = bundle::CopyMode::reflink;
    create.force = (*vm)["force"].as<bool>();
    const bool quiet = (*vm)["quiet"].as<bool>();
    create.progress = !quiet && ::isatty(STDERR_FILENO);
    create.config = config_options(*vm);
    return [create, summary = !quiet && ::isatty(STDOUT_FILENO)](Context& context) mutable {
        create.state_dir = context.config().state_dir;  // the image store (--image)
        bundle::create_bundle(create);
        if (summary) std::cout << creation_summary(create) << std::endl;
        return 0;
    };
}

std::optional<Action> parse_validate(const std::vector<std::string>& args) {
    po::options_description options("bundle validate options");
    options.add_options()
        ("format", po::value<std::string>()->default_value("text")->value_name("FORMAT"), "text: one '<json path>: <message>' line "
                                                                    "per problem; json: one document")
        ("quiet,q", po::bool_switch(), "no '<path>: valid' line (there is none when stdout is not a terminal)")
        ("path", po::value<std::string>()->value_name("DIR")->default_value("."), "bundle directory");
    po::positional_options_description positional;
    positional.add("path", 1);
    auto vm = parse_command_args(validate_command, args, options, positional);
    if (!vm) return std::nullopt;
    const std::string format = (*vm)["format"].as<std::string>();
    if (format != "text" && format != "json")
        throw Error(Errc::usage, "bundle validate: --format must be text or json, not '" + format + "'");
    const bool summary = format == "text" && !(*vm)["quiet"].as<bool>() && ::isatty(STDOUT_FILENO);
    return [format, summary, path = nonempty_path((*vm)["path"].as<std::string>(), "bundle validate: <path>")](Context&) {
        const bundle::ValidationResult result = bundle::validate_bundle(path);
        if (format == "json") {
            std::cout << to_pretty_json(bundle::to_json(result));
        } else {
            for (const auto& problem : result.problems) std::cout << oci::to_string(problem) << "\n";
            if (summary && result.valid()) std::cout << path.string() << ": valid\n";
        }
        std::cout.flush();
        return result.valid() ? 0 : static_cast<int>(Errc::invalid_input);
    };
}

std::optional<Action> parse_bundle(const Command&, const std::vector<std::string>& args) {
    const std::string sub = args.empty() ? "" : args.front();
    const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    if (sub == "create") return parse_create(rest);
    if (sub == "validate") return parse_validate(rest);
    if (sub == "--help" || sub == "-h") {
        std::cout << "Usage: proxmox-lxcri " << create_command.usage << "\n"
                  << "       proxmox-lxcri " << validate_command.usage << "\n\n"
                  << "create: " << create_command.summary << "\nvalidate: " << validate_command.summary
                  << "\n\n'proxmox-lxcri bundle create --help' lists the options.\n";
        return std::nullopt;
    }
    if (sub.empty()) throw Error(Errc::usage, "bundle: missing subcommand: create or validate (see bundle --help)");
    throw Error(Errc::usage, "bundle: unknown subcommand '" + sub + "': create or validate (see bundle --help)");
}

const CommandRegistration registration{
    {"bundle", "make (create) or check (validate) an OCI bundle",
     "bundle create <path> [options] | bundle validate [<path>] [--format text|json] [--quiet]", parse_bundle}};

}  // namespace
}  // namespace lxcri::cli
