#include "cli/command.hpp"
#include "image/layer_cache.hpp"
#include "image/store.hpp"

#include <lxcri/error.hpp>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

const Command list_command{"cache list", "list the pulled images and the unpacked layer stacks", "cache list", {}};
const Command prune_command{"cache prune", "remove the unpacked layer stacks and unused blobs (--all: everything)",
                            "cache prune [--all]", {}};

std::string size_text(std::uint64_t bytes) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buffer;
}

void print_cache(const image::StorePaths& store) {
    std::cout << "IMAGE\tPLATFORM\tMANIFEST\tPULLED\n";
    for (const auto& [reference, image] : image::read_pulled(store))
        std::cout << reference << "\t" << image.platform << "\t" << image.manifest_digest << "\t" << image.pulled << "\n";
    std::cout << "\nLAYER STACK (CHAIN ID)\tLAYERS\tENTRIES\tSIZE\tCREATED\tLAST USED\n";
    for (const auto& chain : image::list_chains(store))
        std::cout << chain.chain_id << "\t" << chain.layers << "\t" << chain.entries << "\t" << size_text(chain.bytes)
                  << "\t" << chain.created << "\t" << chain.last_used << "\n";
}

std::optional<Action> parse_list(const std::vector<std::string>& args) {
    if (!parse_command_args(list_command, args, {}, {})) return std::nullopt;
    return [](Context& context) {
        print_cache(image::StorePaths(context.config().state_dir));
        return 0;
    };
}

std::optional<Action> parse_prune(const std::vector<std::string>& args) {
    po::options_description options("cache prune options");
    options.add_options()("all", po::bool_switch(), "also forget the pulled images (pull them again to use them)");
    auto vm = parse_command_args(prune_command, args, options, {});
    if (!vm) return std::nullopt;
    return [all = (*vm)["all"].as<bool>()](Context& context) {
        const image::PruneResult result = image::prune(image::StorePaths(context.config().state_dir), all);
        std::cout << "removed " << result.chains << " layer stack(s), " << result.blobs << " blob(s), " << result.images
                  << " pulled image(s)\n";
        return 0;
    };
}

std::optional<Action> parse_cache(const Command&, const std::vector<std::string>& args) {
    const std::string sub = args.empty() ? "" : args.front();
    const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    if (sub == "list") return parse_list(rest);
    if (sub == "prune") return parse_prune(rest);
    if (sub == "--help" || sub == "-h") {
        std::cout << "Usage: proxmox-lxcri " << list_command.usage << "\n       proxmox-lxcri " << prune_command.usage
                  << "\n\nlist: " << list_command.summary << "\nprune: " << prune_command.summary
                  << "\n\nThe cache is <state-dir>/images (docs/OCI_BUNDLE_GENERATOR.md).\n";
        return std::nullopt;
    }
    if (sub.empty()) throw Error(Errc::usage, "cache: missing subcommand: list or prune (see cache --help)");
    throw Error(Errc::usage, "cache: unknown subcommand '" + sub + "': list or prune (see cache --help)");
}

const CommandRegistration registration{
    {"cache", "list or prune the image cache (pulled images, unpacked layers)", "cache list | cache prune [--all]",
     parse_cache}};

}  // namespace
}  // namespace lxcri::cli
