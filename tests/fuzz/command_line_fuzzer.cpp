// The whole command line as main parses it, acting on nothing: the global
// flags (cli::CommandLine), the settings (load_config with flags and the
// environment) and the command's own flags and operands (Command::parse).
// The input is argv without the program name, one argument per NUL-separated
// part. "--vmid-min=%value%" and "exec --preserve-fds %value%" once made
// Boost's message formatting loop for ever (issue 11, item 2).

#include "fuzz_support.hpp"

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "config/config_loader.hpp"
#include "config/option_error.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace po = boost::program_options;
using namespace lxcri;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_sandbox(*argc, *argv);
    // An empty config file, and no PROXMOX_LXCRI_* but the one naming it.
    std::vector<std::string> ours;
    for (char** env = environ; *env; ++env)
        if (std::string_view(*env).starts_with("PROXMOX_LXCRI_"))
            ours.emplace_back(*env, std::string_view(*env).find('='));
    for (const auto& name : ours) ::unsetenv(name.c_str());
    fuzz::write_input(fuzz::scratch_dir() / "config", nullptr, 0);
    ::setenv("PROXMOX_LXCRI_CONFIG", (fuzz::scratch_dir() / "config").c_str(), 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_text(data, size);
    std::vector<std::string> args;
    for (std::size_t start = 0; start <= input.size();) {
        std::size_t end = std::min(input.find('\0', start), input.size());
        args.emplace_back(input.substr(start, end - start));
        start = end + 1;
    }
    try {
        cli::CommandLine line(args);
        if (line.flags().count("version") || line.flags().count("help") || !line.command()) return 0;
        load_config(line.parsed());
        const cli::Command& command = cli::command(*line.command());
        command.parse(command, line.command_args());
    } catch (const Error& e) {
        fuzz::check_message(e, input);
    } catch (const po::error& e) {
        option_error_message(e);  // what main does with one; it must end
    }
    return 0;
}
