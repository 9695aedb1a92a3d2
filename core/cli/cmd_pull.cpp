#include "cli/command.hpp"
#include "image/pull.hpp"

#include <lxcri/error.hpp>

#include <unistd.h>

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_pull(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("pull options");
    options.add_options()
        ("authfile", po::value<std::string>()->value_name("FILE"), "registry credentials (containers-auth.json, as "
                                                                   "podman login writes it)")
        ("cert-dir", po::value<std::string>()->value_name("DIR"), "CA certificates (*.crt) that the registry's TLS "
                                                                  "certificate must chain to")
        ("tls-verify", po::value<bool>()->default_value(true)->value_name("BOOL"), "verify the registry's TLS certificate "
                                                                                  "(--tls-verify=false: do not)")
        ("platform", po::value<std::string>()->value_name("OS/ARCH[/VARIANT]"), "the image of an index to pull "
                                                                                "(default: this host's)")
        ("quiet,q", po::bool_switch(), "no progress (there is none when stdout is not a terminal)")
        ("reference", po::value<std::string>()->value_name("REF"), "docker://NAME[:TAG][@sha256:DIGEST]");
    po::positional_options_description positional;
    positional.add("reference", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    if (!vm->count("reference")) throw Error(Errc::usage, "pull: missing docker://REFERENCE (see pull --help)");

    image::Reference ref = image::parse_reference((*vm)["reference"].as<std::string>());
    image::PullOptions pull;
    if (vm->count("authfile")) pull.authfile = (*vm)["authfile"].as<std::string>();
    if (vm->count("cert-dir")) pull.cert_dir = (*vm)["cert-dir"].as<std::string>();
    pull.tls_verify = (*vm)["tls-verify"].as<bool>();
    if (vm->count("platform")) pull.platform = image::parse_platform((*vm)["platform"].as<std::string>());
    pull.progress = !(*vm)["quiet"].as<bool>() && ::isatty(STDOUT_FILENO);
    return [ref, pull](Context& context) {
        const std::string digest = image::pull(image::StorePaths(context.config().state_dir), ref, pull);
        std::cout << ref.canonical() << " " << digest << "\n";
        return 0;
    };
}

const CommandRegistration registration{
    {"pull", "copy an image from a registry into the image cache (through skopeo)",
     "pull [--authfile FILE] [--cert-dir DIR] [--tls-verify=false] [--platform OS/ARCH] docker://NAME[:TAG][@DIGEST]",
     parse_pull}};

}  // namespace
}  // namespace lxcri::cli
