#pragma once

#include <lxcri/error.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <string>

namespace lxcri {

// Parses a JSON document. Syntax errors become Error(code) naming `what`
// (usually a file name) and the line:column of the problem: invalid_input
// for what a user gave, failed for the runtime's own files found damaged.
boost::json::value parse_json(std::string_view text, std::string_view what, Errc code = Errc::invalid_input);

// read_file + parse_json.
boost::json::value read_json_file(const std::filesystem::path& path, Errc code = Errc::invalid_input);

// read_json_file of a document that must be an object: anything else is
// Error(code, "<path>: must be a JSON object").
boost::json::object read_json_object(const std::filesystem::path& path, Errc code = Errc::invalid_input);

// Indented JSON (two spaces), with a final newline, for files people read.
std::string to_pretty_json(const boost::json::value& value);

}  // namespace lxcri
