#pragma once

// The plugin host: where a command that needs a plugin runs when the
// executable cannot load one (docs/ARCHITECTURE.md, "Two executables").
//
// proxmox-lxcri is linked statically (libstdc++, Boost, the core), so that
// the commands engines call over and over start as fast as a C program. A
// plugin links liblxcri-core.so and libstdc++.so: loaded into it, it would
// make a second core and a second libstdc++ in one process. So its main()
// delegates plugins, and a plugin load throws plugin_host::Needed instead;
// main() then execs proxmox-lxcri-host (libexec) with the same arguments
// and the environment the process started with, which runs the whole
// command again with the plugins. The plugins that ship with the core are
// built into the static executable (builtin_plugins.hpp) and need no host.
//
// That is only right where nothing has been changed before the load: the
// static executable runs itself only commands that load a plugin, if at
// all, before they change anything (main.cpp says which).

#include <filesystem>

namespace lxcri::plugin_host {

// Thrown by a plugin load in a process that delegates plugins. Not a
// std::exception: only main() catches it.
struct Needed {};

// Called once by the static executable's main(), before any command runs
// (it keeps the environment for exec()).
void delegate_plugins();
bool plugins_delegated();

// <libexec>/proxmox-lxcri-host, found as the init helper is.
std::filesystem::path path();

// Execs the host with argv and the environment the process started with;
// throws an Error when it cannot.
[[noreturn]] void exec(char** argv);

}  // namespace lxcri::plugin_host
