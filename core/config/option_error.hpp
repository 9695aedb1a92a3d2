#pragma once

#include <boost/program_options/errors.hpp>

#include <string>

namespace lxcri {

// The message of a Boost.Program_options error, formatted here instead of by
// its what(): Boost substitutes the placeholders of its template in a loop
// that never ends when a value the user typed contains one ("%value%"), so
// no user text may reach that formatting. Each placeholder is replaced once.
std::string option_error_message(const boost::program_options::error& error);

}  // namespace lxcri
