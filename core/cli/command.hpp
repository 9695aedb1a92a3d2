#pragma once

// The command-line framework. Each command lives in its own file in cli/,
// parses and checks its own flags with parse_command_args and returns the
// Action that calls one function of the core; it registers itself with a
// static CommandRegistration:
//
//   namespace {
//   std::optional<Action> parse_state(const Command& self, const std::vector<std::string>& args) {
//       ... auto vm = parse_command_args(self, args, options, positional); ...
//       return [id](Context& context) { ...; return 0; };
//   }
//   const lxcri::cli::CommandRegistration registration{
//       {"state", "print the state of a container", "state <id>", parse_state}};
//   }
//
// Parsing acts on nothing, so every command's arguments can be checked (and
// fuzzed, tests/fuzz) without a container or a runtime.

#include "config/config.hpp"

#include <boost/program_options.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {
class Runtime;
}

namespace lxcri::cli {

// What every command gets: the operator configuration after precedence
// (flag > environment > file > default) and, on demand, the runtime.
class Context {
public:
    explicit Context(Config config);
    ~Context();

    const Config& config() const { return config_; }
    Runtime& runtime();  // made on first use

private:
    Config config_;
    std::unique_ptr<Runtime> runtime_;
};

// What a command does once its arguments are parsed; returns the exit code.
using Action = std::function<int(Context&)>;

struct Command {
    std::string name;
    std::string summary;
    std::string usage;  // e.g. "create [options] <id>"
    // Parses and checks the command's arguments; gets the command itself
    // (its name and usage, for parse_command_args). Error(usage) or
    // Error(invalid_input) for bad ones; nullopt when --help printed the usage.
    std::function<std::optional<Action>(const Command&, const std::vector<std::string>&)> parse;
};

struct CommandRegistration {
    explicit CommandRegistration(Command command);
};

// Every registered command, by name.
const std::map<std::string, Command>& commands();

// Parses a command's arguments strictly: unknown flags or too many operands
// are Error(usage). Returns nullopt when --help was given (usage printed).
std::optional<boost::program_options::variables_map> parse_command_args(
    const Command& command, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description& positional);

// How Boost.Program_options will read each word of a command line, decided
// ahead of it from the option descriptions: an option (with or without an
// attached value), the separate value of the option before it, an operand,
// the "--" that ends the options, or an option `options` does not know.
enum class Word { option, value, operand, separator, unknown_option };
std::vector<Word> classify_words(const std::vector<std::string>& args,
                                 const boost::program_options::options_description& options);

// The value of a file option (--pid-file, --console-socket): nullopt when
// absent or empty, as runc reads `--pid-file ""`.
std::optional<std::string> file_option(const boost::program_options::variables_map& vm, const std::string& name);

// The command registered under `name`.
const Command& command(const std::string& name);

}  // namespace lxcri::cli
