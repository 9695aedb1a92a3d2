#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lxcri::bundle {

// The ociVersion of the configs we write.
inline constexpr std::string_view oci_version = "1.2.0";

struct User {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
};

// process.user as an image's config resolves it.
struct ProcessUser {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> additional_gids;
};

// What an image's config contributes to config.json (the image spec's
// conversion.md), between the base (default or template) and the flags.
struct ImageDefaults {
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::vector<std::string> env;  // KEY=VALUE
    std::optional<std::string> cwd;
    std::optional<ProcessUser> user;
    std::vector<std::pair<std::string, std::string>> annotations;
};

// A bind mount from --mount SRC:DST[:OPTS].
struct BindMount {
    std::string source;  // absolute
    std::string destination;
    std::vector<std::string> options;
};

// The parts of config.json the command line sets. Unset members keep what
// the base (the default config or --config TEMPLATE) has.
struct ConfigOptions {
    std::optional<std::filesystem::path> template_path;  // --config
    bool rootless = false;                                // as runc spec --rootless
    User rootless_host_ids;                               // whom container root maps to (the caller)
    std::vector<std::string> args;                        // empty: keep (with an image: its Cmd)
    std::optional<std::vector<std::string>> entrypoint;   // with an image: replaces its Entrypoint, drops its Cmd
    std::optional<ImageDefaults> image;
    std::vector<std::string> env;                         // KEY=VALUE, replacing the same KEY
    std::optional<std::string> cwd;
    std::optional<std::string> hostname;
    std::optional<User> user;
    std::optional<std::int64_t> memory;  // bytes
    std::optional<double> cpus;
    bool readonly = false;  // true sets root.readonly
    std::vector<BindMount> mounts;
    std::vector<std::pair<std::string, std::string>> annotations;
};

// A runtime-spec config like runc spec's (rootless: like runc spec --rootless
// for `host_ids`), with root.path "rootfs".
boost::json::object default_config(bool rootless = false, User host_ids = {});

// The base (default or template) with the rootless changes and then the
// options applied. root.path is always "rootfs". Throws Error(invalid_input)
// for a template that cannot be read, is not a JSON object, or has a member
// of the wrong type where an option goes.
boost::json::object make_config(const ConfigOptions& options);

// make_config in two steps, for callers that learn the image defaults
// later: the base (read once), then the options applied to it. With an
// image: process.args = Entrypoint + Cmd (--entrypoint replaces the first
// and drops the image's Cmd, --args replaces the Cmd), env merged by name
// (base < image < --env), cwd and user from the image unless flags say
// otherwise, the image's annotations below --annotation.
boost::json::object base_config(const ConfigOptions& options);
void apply_options(boost::json::object& config, const ConfigOptions& options);

// Parsers for command-line values. Each throws Error(invalid_input) naming
// the flag and the form it wants.
std::vector<std::string> split_args(std::string_view list);         // "a,b,c"
std::int64_t parse_memory(std::string_view text);                   // "512m", "1g", "1048576"
double parse_cpus(std::string_view text);                           // "1.5"
User parse_user(std::string_view text);                             // "1000:1000"
BindMount parse_mount(std::string_view text);                       // "/src:/dst[:ro,nosuid]"
std::pair<std::string, std::string> parse_key_value(std::string_view text, std::string_view flag);  // "k=v"

}  // namespace lxcri::bundle
