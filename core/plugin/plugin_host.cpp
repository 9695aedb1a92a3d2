#include "plugin/plugin_host.hpp"

#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>

#include <cerrno>
#include <unistd.h>

namespace lxcri::plugin_host {
namespace {

bool delegated = false;

}  // namespace

void delegate_plugins() { delegated = true; }

bool plugins_delegated() { return delegated; }

std::filesystem::path path() { return libexec_directory() / "proxmox-lxcri-host"; }

void exec(char** argv) {
    std::string host = path().string();
    ::execv(host.c_str(), argv);
    // A broken installation: the plugin machinery's exit code, whatever errno says.
    throw Error(Errc::plugin, errno_message("run the plugin host " + host, errno));
}

}  // namespace lxcri::plugin_host
