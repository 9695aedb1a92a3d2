#pragma once

#include "config/config.hpp"

#include <boost/program_options.hpp>

namespace lxcri {

// The settings that flags, PROXMOX_LXCRI_* variables and the config file
// share. `command_line` makes `debug` a plain switch (--debug).
boost::program_options::options_description config_keys(bool command_line);

// Applies the precedence flag > environment > file > default. The file is
// --config, else $PROXMOX_LXCRI_CONFIG, else /etc/proxmox-lxcri/config when
// it exists. Throws Error(invalid_input) naming the key for a bad value.
Config load_config(const boost::program_options::parsed_options& command_line);

// The default config file.
inline constexpr const char* default_config_file = "/etc/proxmox-lxcri/config";

}  // namespace lxcri
