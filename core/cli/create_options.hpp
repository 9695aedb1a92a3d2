#pragma once

// The flags `create` and `run` share (runc's), in one place.

#include "runtime/runtime.hpp"

#include <boost/program_options.hpp>

namespace lxcri::cli {

// --bundle, --pid-file, --console-socket, the runc no-ops and the id operand.
void add_create_options(boost::program_options::options_description& options);

CreateOptions create_options(const boost::program_options::variables_map& vm);

}  // namespace lxcri::cli
