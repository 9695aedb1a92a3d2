#pragma once

// config.json -> lxcri::ContainerSpec, with every rule of the OCI runtime
// spec (v1.0.0 .. v1.3.x, Linux) that can be checked without touching the
// host. Each problem names the JSON path it is about, so a user can find it.

#include <lxcri/container_spec.hpp>

#include <boost/json/value.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri::oci {

// One thing wrong with a document. `path` is a JSON path such as
// "linux.resources.memory.limit", "mounts[2].destination" or
// `linux.sysctl["net.ipv4.ip_forward"]`; "" means the document itself.
struct Problem {
    std::string path;
    std::string message;
};

// "<path>: <message>", or just the message for the document itself.
std::string to_string(const Problem& problem);

struct CheckResult {
    std::optional<ContainerSpec> spec;  // set only when problems is empty
    std::vector<Problem> problems;      // in document order
    std::vector<Problem> warnings;      // accepted, but worth saying (a newer ociVersion)
};

// Checks the whole document and reports every problem (`bundle validate`).
// Members the spec does not know are ignored (the spec allows extensions);
// a known member with the wrong type is a problem. JSON null counts as
// absent, as it does for the Go decoders runc and the callers use.
CheckResult check_config(const boost::json::value& document);

// The spec, or Error(invalid_input, "<path>: <message>") for the first problem.
ContainerSpec parse_config(const boost::json::value& document);

// A bundle's config.json as read once: the text and the spec parsed from
// exactly that text. Whatever is made from the bundle afterwards (the
// core's copy, rt/config.json) is made from `text`, never from the file,
// which may have changed since.
struct BundleConfig {
    std::string text;
    ContainerSpec spec;
    std::vector<Problem> warnings;  // CheckResult::warnings
};

// Reads and parses <bundle_dir>/config.json (one open). Every message
// starts with "config.json: ". A missing bundle directory or config.json is
// Errc::not_found, malformed JSON or a bad document Errc::invalid_input.
BundleConfig read_bundle_config(const std::filesystem::path& bundle_dir);

// read_bundle_config(bundle_dir).spec
ContainerSpec load_bundle_config(const std::filesystem::path& bundle_dir);

// The ociVersion values accepted: 1.0.0 and every later 1.x, pre-release
// suffixes included (runc's `spec` writes "1.0.2-dev"). Up to 1.3.x every
// member is known; a later minor version is a warning (CheckResult::warnings)
// and the members it added are ignored, as runc and crun do.
std::string_view supported_oci_version_min();  // "1.0.0"
std::string_view supported_oci_version_max();  // "1.3.x": the newest whose members are known

// True when `version` is SemVer 2.0.0, 1.0.0 or a later 1.x.
bool is_supported_oci_version(std::string_view version);

}  // namespace lxcri::oci
