#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace lxcri::log {

struct Options {
    std::optional<std::filesystem::path> file;  // --log; stderr when unset
    std::string format = "text";                // text | json
    bool debug = false;                         // --debug: debug messages too
};

// (Re)configures the one logger of the process. Before the first call,
// messages of level info and above go to stderr as text.
void init(const Options& options);

// Writes the single error of a failed command: to the log sink, and also to
// stderr when the log goes to a file (callers read one or the other).
void failure(const std::string& message);

}  // namespace lxcri::log
