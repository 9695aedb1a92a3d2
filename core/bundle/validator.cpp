#include "bundle/validator.hpp"

#include "bundle/fd_util.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri::bundle {
namespace {

std::string single_quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// config.json as JSON, or nullopt after adding a problem.
std::optional<json::value> read_config(const fs::path& bundle, std::vector<oci::Problem>& problems) {
    const fs::path file = bundle / "config.json";
    std::string text;
    try {
        text = read_file(file);
    } catch (const Error& e) {
        problems.push_back({"config.json", e.code() == Errc::not_found ? "no such file" : e.what()});
        return std::nullopt;
    }
    try {
        return parse_json(text, "config.json");
    } catch (const Error& e) {
        std::string message = e.what();
        const std::string_view prefix = "config.json: ";
        if (message.starts_with(prefix)) message.erase(0, prefix.size());
        problems.push_back({"config.json", message});
        return std::nullopt;
    }
}

// Without openat2 (Linux < 5.6): the same rule on the resolved path.
std::optional<std::string> check_root_fallback(const fs::path& bundle, const std::string& path) {
    std::error_code ec;
    const fs::path resolved = fs::canonical(bundle / path, ec);
    if (ec) return directory_problem(path, ec.value());
    const fs::path rel = resolved.lexically_relative(fs::canonical(bundle, ec));
    if (rel.empty() || *rel.begin() == "..") return single_quoted(path) + " resolves outside the bundle";
    return directory_problem(resolved, path);
}

// The problem with root.path, if any: it must name a directory inside the
// bundle, and no symlink on the way may lead out of it.
std::optional<std::string> check_root_path(const fs::path& bundle, const std::string& path) {
    std::string rel = path;
    if (fs::path(path).is_absolute()) {
        // As written, or else with symlinks resolved (/var/lib -> /data/lib).
        fs::path inside = fs::path(path).lexically_normal().lexically_relative(absolute_path(bundle));
        if (inside.empty() || *inside.begin() == "..") {
            std::error_code ec;
            inside = fs::weakly_canonical(path, ec).lexically_relative(fs::weakly_canonical(bundle, ec));
        }
        if (inside.empty() || *inside.begin() == "..") return single_quoted(path) + " is outside the bundle";
        rel = inside.string();
    }
    UniqueFd dir(::open(bundle.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return "cannot open the bundle: " + std::string(std::strerror(errno));
    UniqueFd root(open_beneath(dir.get(), rel, O_PATH | O_DIRECTORY));
    if (root) return std::nullopt;
    switch (errno) {
    case EXDEV: return single_quoted(path) + " resolves outside the bundle";
    case ELOOP: return single_quoted(path) + ": too many levels of symbolic links";
    case ENOSYS: return check_root_fallback(bundle, rel);
    default: return directory_problem(path, errno);
    }
}

}  // namespace

ValidationResult validate_bundle(const fs::path& bundle) {
    ValidationResult result;
    auto& problems = result.problems;
    if (auto problem = directory_problem(bundle, bundle.string())) {
        problems.push_back({"", "bundle " + *problem});
        return result;
    }

    const std::optional<json::value> config = read_config(bundle, problems);
    if (!config) return result;

    for (auto& problem : oci::check_config(*config).problems) {
        if (problem.path.empty()) problem.path = "config.json";  // the document as a whole
        problems.push_back(std::move(problem));
    }

    // Structure, from the JSON itself: the spec rules above may have failed
    // elsewhere, and a wrongly typed root.path is already reported.
    const json::object* object = config->if_object();
    const json::value* root = object ? object->if_contains("root") : nullptr;
    const json::value* path = root && root->is_object() ? root->get_object().if_contains("path") : nullptr;
    if (path && path->is_string() && !path->get_string().empty()) {
        if (auto problem = check_root_path(bundle, std::string(path->get_string())))
            problems.push_back({"root.path", *problem});
    }
    return result;
}

json::object to_json(const ValidationResult& result) {
    json::array problems;
    for (const auto& problem : result.problems)
        problems.push_back(json::object{{"path", problem.path}, {"message", problem.message}});
    return {{"valid", result.valid()}, {"problems", std::move(problems)}};
}

}  // namespace lxcri::bundle
