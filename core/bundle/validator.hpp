#pragma once

#include "oci/parser.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace lxcri::bundle {

struct ValidationResult {
    std::vector<oci::Problem> problems;  // in the order found; empty when valid
    bool valid() const { return problems.empty(); }
};

// Checks the bundle directory `bundle`: config.json is readable JSON, every
// runtime-spec rule the OCI parser knows (oci::check_config), and root.path
// names a directory that resolves inside the bundle (symlinks may not lead
// out). Problems name a JSON path ("root.path"), "config.json" for the file
// itself, or nothing for the bundle directory (print them with
// oci::to_string). Never throws for a bad bundle.
ValidationResult validate_bundle(const std::filesystem::path& bundle);

// {"valid": bool, "problems": [{"path": ..., "message": ...}]}
boost::json::object to_json(const ValidationResult& result);

}  // namespace lxcri::bundle
