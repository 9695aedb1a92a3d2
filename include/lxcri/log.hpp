#pragma once

#include <string_view>

// Logging for the core and for plugins. There is one logger, owned by the
// core (Boost.Log, in a module the core loads at the first message that
// passes the level); plugins call these functions so that
// their messages reach the same sinks (stderr or --log FILE, text or json).
//
// Do not log an error and then throw: main logs each failure exactly once.
namespace lxcri::log {

enum class Level { debug, info, warning, error };

void write(Level level, std::string_view message);

inline void debug(std::string_view message) { write(Level::debug, message); }
inline void info(std::string_view message) { write(Level::info, message); }
inline void warning(std::string_view message) { write(Level::warning, message); }
inline void error(std::string_view message) { write(Level::error, message); }

bool debug_enabled();

}  // namespace lxcri::log
