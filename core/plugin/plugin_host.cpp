#include "plugin/plugin_host.hpp"

#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include <unistd.h>

extern char** environ;

namespace lxcri::plugin_host {
namespace {

bool delegated = false;
// The environment the process started with: a command may change its own
// (a create's deadline undo clears the variable that asked for it), and
// the host must run the command as it was given.
std::vector<std::string> start_environment;

}  // namespace

void delegate_plugins() {
    delegated = true;
    for (char** e = environ; e && *e; ++e) start_environment.emplace_back(*e);
}

bool plugins_delegated() { return delegated; }

std::filesystem::path path() { return libexec_directory() / "proxmox-lxcri-host"; }

void exec(char** argv) {
    std::string host = path().string();
    std::vector<char*> env;
    for (std::string& e : start_environment) env.push_back(e.data());
    env.push_back(nullptr);
    ::execve(host.c_str(), argv, env.data());
    // A broken installation: the plugin machinery's exit code, whatever errno says.
    throw Error(Errc::plugin, errno_message("run the plugin host " + host, errno));
}

}  // namespace lxcri::plugin_host
