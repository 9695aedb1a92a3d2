#pragma once

// PLACEHOLDER being replaced by the full typed runtime spec (core/oci owner).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

struct Process {
    bool terminal = false;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd;
};

struct Root {
    std::string path;
    bool readonly = false;
};

struct ContainerSpec {
    std::string oci_version;
    std::optional<Process> process;
    Root root;
    std::string hostname;
    std::map<std::string, std::string> annotations;
};

}  // namespace lxcri
