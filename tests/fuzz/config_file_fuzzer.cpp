// The operator config file (/etc/proxmox-lxcri/config) through load_config,
// as main loads it: a file is accepted only with values in range, and no
// text in it makes Boost.Program_options' message formatting loop (issue
// 11, item 2: a line "x%invalid_line%").

#include "fuzz_support.hpp"

#include "config/config_loader.hpp"
#include "config/option_error.hpp"

#include <lxcri/types.hpp>

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace lxcri;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_sandbox(*argc, *argv);
    for (const char* key : {"BACKEND", "MAPPING", "ROOT", "STATE_DIR", "PLUGIN_DIR", "LOG", "LOG_FORMAT", "DEBUG",
                            "VMID_MIN", "VMID_MAX"})
        ::unsetenv((std::string("PROXMOX_LXCRI_") + key).c_str());
    ::setenv("PROXMOX_LXCRI_CONFIG", (fuzz::scratch_dir() / "config").c_str(), 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::write_input(fuzz::scratch_dir() / "config", data, size);
    po::options_description options = config_keys(true);
    options.add_options()("config", po::value<std::string>());
    Config config;
    try {
        config = load_config(po::command_line_parser(std::vector<std::string>{}).options(options).run());
    } catch (const Error& e) {
        fuzz::check_message(e, fuzz::as_text(data, size));
        return 0;
    } catch (const po::error& e) {
        // main turns these into usage errors with option_error_message.
        option_error_message(e);
        return 0;
    }
    const VmidRange& range = config.vmid_range;
    if (range.min < vmid_hard_min || range.max > vmid_hard_max || range.min > range.max)
        fuzz::fail("accepted the VMID range " + std::to_string(range.min) + ".." + std::to_string(range.max));
    if (!config.root.is_absolute() || !config.state_dir.is_absolute() || config.root == "/")
        fuzz::fail("accepted root " + config.root.string() + ", state-dir " + config.state_dir.string());
    if (config.log_file && !config.log_file->is_absolute()) fuzz::fail("accepted a relative log file");
    if (config.backend != "auto" && !is_valid_plugin_name(config.backend))
        fuzz::fail("accepted backend '" + config.backend + "'");
    return 0;
}
