#include "runtime/exec_config.hpp"

#include "oci/parser.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace json = boost::json;

namespace lxcri {
namespace {

// "1000" or "1000:1000" -> process.user.uid / gid.
void apply_user(json::object& user, const std::string& text) {
    auto number = [&](const std::string& part) {
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 10)
            throw Error(Errc::invalid_input, "exec --user: '" + text + "' is not uid[:gid]");
        return std::stoull(part);
    };
    auto colon = text.find(':');
    user["uid"] = number(text.substr(0, colon));
    if (colon != std::string::npos) user["gid"] = number(text.substr(colon + 1));
}

json::object& object_member(json::object& parent, const char* key) {
    json::value& member = parent[key];
    return member.is_object() ? member.as_object() : member.emplace_object();
}

// NAME=value entries replace the container's entry of the same NAME.
void apply_env(json::object& process, const std::vector<std::string>& entries) {
    json::array env = process["env"].is_array() ? process["env"].as_array() : json::array{};
    for (const auto& entry : entries) {
        std::string name = entry.substr(0, entry.find('='));
        auto same = std::find_if(env.begin(), env.end(), [&](const json::value& v) {
            return v.is_string() && std::string(v.as_string()).rfind(name + "=", 0) == 0;
        });
        if (same != env.end())
            *same = json::value(entry);
        else
            env.push_back(json::value(entry));
    }
    process["env"] = std::move(env);
}

// The container's process with the command line's changes.
json::object process_from_options(const json::object& config, const ExecOptions& options) {
    if (options.args.empty()) throw Error(Errc::usage, "exec: a command or --process is required");
    json::object process;
    if (auto* base = config.if_contains("process"); base && base->is_object()) process = base->as_object();
    json::array args;
    for (const auto& a : options.args) args.push_back(json::value(a));
    process["args"] = std::move(args);
    process["terminal"] = options.tty;
    if (options.cwd) process["cwd"] = *options.cwd;
    if (options.user) apply_user(object_member(process, "user"), *options.user);
    if (!options.additional_gids.empty()) {
        json::array gids;
        for (auto g : options.additional_gids) gids.push_back(g);
        object_member(process, "user")["additionalGids"] = std::move(gids);
    }
    if (options.no_new_privileges) process["noNewPrivileges"] = true;
    if (!options.env.empty()) apply_env(process, options.env);
    if (!options.capabilities.empty() && process["capabilities"].is_object())
        for (auto& [set, caps] : process["capabilities"].as_object())
            if (caps.is_array())
                for (const auto& cap : options.capabilities) caps.as_array().push_back(json::value(cap));
    return process;
}

}  // namespace

ExecConfig build_exec_config(json::object container_config, const ExecOptions& options,
                             const std::optional<std::string>& process_json) {
    json::object process;
    if (process_json) {
        auto value = parse_json(*process_json, "process");
        if (!value.is_object()) throw Error(Errc::invalid_input, "process: must be a JSON object");
        process = value.as_object();
    } else {
        process = process_from_options(container_config, options);
    }
    container_config["process"] = std::move(process);
    ExecConfig exec;
    exec.config_json = json::serialize(container_config);
    exec.spec = oci::parse_config(container_config);  // the same rules as config.json
    return exec;
}

}  // namespace lxcri
