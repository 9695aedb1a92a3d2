#include "cli/command.hpp"
#include "oci/parser.hpp"
#include "oci/spec_names.hpp"
#include "state/state_store.hpp"
#include "util/json.hpp"

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

boost::json::array names(std::span<const std::string_view> list) {
    boost::json::array array;
    for (auto name : list) array.push_back(boost::json::value(name));
    return array;
}

// The runtime-spec features document (features.md), fixed at build time.
boost::json::object features() {
    boost::json::object linux_features;
    linux_features["namespaces"] = names(oci::known_namespace_types());
    linux_features["capabilities"] = names(oci::known_capabilities());
    linux_features["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false},
                                {"rdma", true}};
    linux_features["seccomp"] = {{"enabled", true},
                                 {"actions", names(oci::known_seccomp_actions())},
                                 {"operators", names(oci::known_seccomp_operators())},
                                 {"archs", names(oci::known_seccomp_architectures())},
                                 {"knownFlags", names(oci::known_seccomp_flags())},
                                 {"supportedFlags", boost::json::array{"SECCOMP_FILTER_FLAG_TSYNC",
                                                                       "SECCOMP_FILTER_FLAG_LOG",
                                                                       "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}};
    linux_features["apparmor"] = {{"enabled", true}};
    linux_features["selinux"] = {{"enabled", true}};
    linux_features["intelRdt"] = {{"enabled", false}};
    linux_features["mountExtensions"] = {{"idmap", {{"enabled", false}}}};

    boost::json::object doc;
    doc["ociVersionMin"] = oci::supported_oci_version_min();
    doc["ociVersionMax"] = state_oci_version;
    doc["hooks"] = boost::json::array{"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                      "poststop"};
    doc["mountOptions"] = boost::json::array{
        "atime",  "bind",     "defaults", "dev",        "diratime",  "exec",   "noatime",     "nodev",
        "nodiratime", "noexec", "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime",
        "ro",     "rprivate", "rslave",   "rw",         "slave",     "strictatime", "suid"};
    doc["linux"] = std::move(linux_features);
    doc["annotations"] = {{"io.github.proxmox-lxcri.version", LXCRI_VERSION}};
    return doc;
}

std::optional<Action> parse_features(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("features options");
    if (!parse_command_args(self, args, options, {})) return std::nullopt;
    return [](Context&) {
        std::cout << to_pretty_json(features());
        return 0;
    };
}

const CommandRegistration registration{
    {"features", "print the runtime-spec features this build supports (JSON)", "features", parse_features}};

}  // namespace
}  // namespace lxcri::cli
