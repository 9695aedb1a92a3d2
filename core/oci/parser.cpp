#include "oci/parser.hpp"

#include "oci/sections.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <array>
#include <charconv>
#include <set>
#include <system_error>

namespace json = boost::json;
namespace fs = std::filesystem;

namespace lxcri::oci {

using namespace detail;

namespace detail {

// uid/gid mappings (user namespace or idmapped mount): each range must be
// non-empty, inside the 32-bit id space, and (as the kernel demands) must
// not overlap another entry's range on either side.
std::vector<IdMapping> read_id_mappings(const Fields& parent, std::string_view key) {
    constexpr std::uint64_t id_space = std::uint64_t{1} << 32;
    auto problems_before = parent.problems().list().size();
    auto mappings = read_objects(parent, key, [](Fields& f) {
        IdMapping mapping;
        bool ok = f.require("containerID") && f.read("containerID", mapping.container_id);
        ok = (f.require("hostID") && f.read("hostID", mapping.host_id)) && ok;
        if (f.require("size") && f.read("size", mapping.size)) {
            if (mapping.size == 0) {
                f.add("size", "must be greater than 0");
            } else if (ok) {
                if (std::uint64_t{mapping.container_id} + mapping.size > id_space)
                    f.problems().add(f.path(), "containerID + size exceeds 4294967296");
                if (std::uint64_t{mapping.host_id} + mapping.size > id_space)
                    f.problems().add(f.path(), "hostID + size exceeds 4294967296");
            }
        }
        return mapping;
    });
    auto overlaps = [](std::uint64_t a, std::uint64_t b, std::uint64_t size_a, std::uint64_t size_b) {
        return a < b + size_b && b < a + size_a;
    };
    // Compare ranges only when every entry was read whole: indices and
    // values are meaningful then.
    if (parent.problems().list().size() != problems_before) return mappings;
    for (std::size_t i = 0; i < mappings.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = mappings[i];
            const auto& b = mappings[j];
            if (a.size == 0 || b.size == 0) continue;
            auto other = index_path(parent.path_of(key), j);
            if (overlaps(a.container_id, b.container_id, a.size, b.size))
                parent.problems().add(index_path(parent.path_of(key), i),
                                      "container range overlaps " + other);
            if (overlaps(a.host_id, b.host_id, a.size, b.size))
                parent.problems().add(index_path(parent.path_of(key), i), "host range overlaps " + other);
        }
    }
    return mappings;
}

}  // namespace detail

namespace {

// ---- ociVersion ----------------------------------------------------------------

struct Version {
    unsigned long major = 0, minor = 0, patch = 0;
    bool prerelease = false;
};

// SemVer 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
std::optional<Version> parse_semver(std::string_view text) {
    auto identifiers_ok = [](std::string_view part, bool numeric_rules) {
        if (part.empty()) return false;
        while (true) {
            auto dot = part.find('.');
            auto id = part.substr(0, dot);
            if (id.empty()) return false;
            bool all_digits = true;
            for (char c : id) {
                bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                if (!alnum && c != '-') return false;
                if (c < '0' || c > '9') all_digits = false;
            }
            if (numeric_rules && all_digits && id.size() > 1 && id.front() == '0') return false;
            if (dot == std::string_view::npos) return true;
            part.remove_prefix(dot + 1);
        }
    };
    Version version;
    auto plus = text.find('+');
    if (plus != std::string_view::npos) {
        if (!identifiers_ok(text.substr(plus + 1), false)) return std::nullopt;
        text = text.substr(0, plus);
    }
    auto dash = text.find('-');
    if (dash != std::string_view::npos) {
        if (!identifiers_ok(text.substr(dash + 1), true)) return std::nullopt;
        version.prerelease = true;
        text = text.substr(0, dash);
    }
    unsigned long* parts[] = {&version.major, &version.minor, &version.patch};
    for (std::size_t i = 0; i < 3; ++i) {
        auto dot = text.find('.');
        if ((i < 2) == (dot == std::string_view::npos)) return std::nullopt;
        auto number = text.substr(0, dot);
        if (number.empty() || (number.size() > 1 && number.front() == '0')) return std::nullopt;
        auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), *parts[i]);
        if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
        if (dot != std::string_view::npos) text.remove_prefix(dot + 1);
    }
    return version;
}

// The newest minor version this runtime implements: a config of a later 1.x
// is accepted with a warning (runc and crun do not refuse it either), and
// the members that version added are ignored as unknown ones.
constexpr unsigned long newest_minor = 3;

bool version_supported(const Version& v) {
    // Pre-releases of 1.0.0 come before 1.0.0 in SemVer order.
    if (v.major != 1) return false;
    return !(v.minor == 0 && v.patch == 0 && v.prerelease);
}

void read_oci_version(const Fields& doc, ContainerSpec& spec, std::vector<Problem>& warnings) {
    if (!doc.require("ociVersion") || !doc.read("ociVersion", spec.oci_version)) return;
    auto version = parse_semver(spec.oci_version);
    if (!version) {
        doc.add("ociVersion", "must be a SemVer version such as 1.3.0 (got " + quote(spec.oci_version) + ")");
    } else if (!version_supported(*version)) {
        doc.add("ociVersion", spec.oci_version + " is not supported (supported: " +
                                  std::string(supported_oci_version_min()) + " and every later 1.x)");
    } else if (version->minor > newest_minor) {
        warnings.push_back({"ociVersion", spec.oci_version + " is newer than " +
                                              std::string(supported_oci_version_max()) +
                                              ", the newest this runtime knows: members it added are ignored"});
    }
}

// ---- root, mounts, hooks -------------------------------------------------------

Root read_root(Fields& f) {
    Root root;
    if (f.require("path") && f.read("path", root.path) && root.path.empty()) f.add("path", "must not be empty");
    f.read("readonly", root.readonly);
    return root;
}

Mount read_mount(Fields& f) {
    Mount mount;
    // runtime-spec lets Linux take a relative destination (as relative to
    // "/") for old tools; we refuse it, so no two spellings of one mount exist.
    if (f.require("destination") && f.read("destination", mount.destination) &&
        !is_absolute(mount.destination))
        f.add("destination", "must be an absolute path");
    f.read("type", mount.type);
    f.read("source", mount.source);
    f.read("options", mount.options);
    mount.uid_mappings = read_id_mappings(f, "uidMappings");
    mount.gid_mappings = read_id_mappings(f, "gidMappings");
    if (f.has("uidMappings") != f.has("gidMappings"))
        f.problems().add(f.path(), "uidMappings and gidMappings must be given together");
    return mount;
}

Hook read_hook(Fields& f) {
    Hook hook;
    if (f.require("path") && f.read("path", hook.path) && !is_absolute(hook.path))
        f.add("path", "must be an absolute path");
    f.read("args", hook.args);
    read_checked_strings(f, "env", hook.env, check_env);
    int timeout = 0;
    if (f.read("timeout", timeout)) {
        if (timeout > 0)
            hook.timeout = timeout;
        else
            f.add("timeout", "must be greater than 0");
    }
    return hook;
}

Hooks read_hooks(Fields& f) {
    Hooks hooks;
    hooks.prestart = read_objects(f, "prestart", read_hook);
    hooks.create_runtime = read_objects(f, "createRuntime", read_hook);
    hooks.create_container = read_objects(f, "createContainer", read_hook);
    hooks.start_container = read_objects(f, "startContainer", read_hook);
    hooks.poststart = read_objects(f, "poststart", read_hook);
    hooks.poststop = read_objects(f, "poststop", read_hook);
    return hooks;
}

// ---- the document --------------------------------------------------------------

ContainerSpec read_document(Fields& doc, std::vector<Problem>& warnings) {
    ContainerSpec spec;
    read_oci_version(doc, spec, warnings);
    spec.process = read_object(doc, "process", read_process);
    if (doc.require("root")) {
        if (auto root = read_object(doc, "root", read_root)) spec.root = std::move(*root);
    }
    doc.read("hostname", spec.hostname);
    doc.read("domainname", spec.domainname);
    spec.mounts = read_objects(doc, "mounts", read_mount);
    if (auto hooks = read_object(doc, "hooks", read_hooks)) spec.hooks = std::move(*hooks);
    doc.read("annotations", spec.annotations);
    if (auto linux_spec = read_object(doc, "linux", read_linux)) spec.linux_spec = std::move(*linux_spec);
    return spec;
}

}  // namespace

std::string to_string(const Problem& problem) {
    return problem.path.empty() ? problem.message : problem.path + ": " + problem.message;
}

std::string_view supported_oci_version_min() { return "1.0.0"; }
std::string_view supported_oci_version_max() { return "1.3.x"; }

bool is_supported_oci_version(std::string_view version) {
    auto parsed = parse_semver(version);
    return parsed && version_supported(*parsed);
}

CheckResult check_config(const json::value& document) {
    Problems problems;
    const auto* object = problems.object(document, "");
    if (!object) return {std::nullopt, problems.take(), {}};
    Fields doc(problems, *object, "");
    CheckResult result;
    ContainerSpec spec = read_document(doc, result.warnings);
    result.problems = problems.take();
    if (result.problems.empty()) result.spec = std::move(spec);
    return result;
}

ContainerSpec parse_config(const json::value& document) {
    auto result = check_config(document);
    if (!result.problems.empty()) throw Error(Errc::invalid_input, to_string(result.problems.front()));
    return std::move(*result.spec);
}

BundleConfig read_bundle_config(const fs::path& bundle_dir) {
    std::error_code ec;
    if (auto problem = directory_problem(bundle_dir, bundle_dir.string()))
        throw Error(Errc::not_found, "bundle " + *problem);
    auto path = bundle_dir / "config.json";
    if (!fs::exists(path, ec))
        throw Error(Errc::not_found, "config.json: no such file in bundle " + bundle_dir.string());
    BundleConfig config;
    try {
        config.text = read_file(path);
    } catch (const Error& e) {
        throw e.with_context("config.json");
    }
    // parse_json puts "config.json: " in front of its own messages.
    auto document = parse_json(config.text, "config.json");
    auto result = check_config(document);
    if (!result.problems.empty())
        throw Error(Errc::invalid_input, "config.json: " + to_string(result.problems.front()));
    config.spec = std::move(*result.spec);
    config.warnings = std::move(result.warnings);
    return config;
}

ContainerSpec load_bundle_config(const fs::path& bundle_dir) { return read_bundle_config(bundle_dir).spec; }

}  // namespace lxcri::oci
