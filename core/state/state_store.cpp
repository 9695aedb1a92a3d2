#include "state/state_store.hpp"

#include "state/container_id.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri {
namespace {

Status parse_status(const std::string& s, const std::string& what) {
    for (Status status : {Status::creating, Status::created, Status::running, Status::paused, Status::stopped})
        if (to_string(status) == s) return status;
    throw Error(Errc::failed, what + ": unknown status '" + s + "'");
}

}  // namespace

json::object ContainerState::to_json() const {
    json::object object;
    object["ociVersion"] = oci_version;
    object["id"] = id;
    object["status"] = to_string(status);
    object["pid"] = pid;
    object["bundle"] = bundle.string();
    json::object notes;
    for (const auto& [k, v] : annotations) notes[k] = v;
    object["annotations"] = std::move(notes);
    object["vmid"] = vmid;
    object["backend"] = backend;
    object["created"] = created;
    return object;
}

ContainerState ContainerState::from_json(const json::value& value, const std::string& what) {
    try {
        const auto& object = value.as_object();
        ContainerState state;
        state.oci_version = json::value_to<std::string>(object.at("ociVersion"));
        state.id = json::value_to<std::string>(object.at("id"));
        state.status = parse_status(json::value_to<std::string>(object.at("status")), what);
        state.pid = static_cast<pid_t>(object.at("pid").to_number<std::int64_t>());
        state.bundle = json::value_to<std::string>(object.at("bundle"));
        if (auto* notes = object.if_contains("annotations"))
            for (const auto& [k, v] : notes->as_object()) state.annotations[k] = json::value_to<std::string>(v);
        state.vmid = static_cast<Vmid>(object.at("vmid").to_number<std::int64_t>());
        state.backend = json::value_to<std::string>(object.at("backend"));
        state.created = json::value_to<std::string>(object.at("created"));
        return state;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(Errc::failed, what + ": damaged state: " + e.what());
    }
}

StateStore::StateStore(fs::path root) : root_(std::move(root)) {}

fs::path StateStore::container_dir(const std::string& id) const {
    validate_container_id(id);
    return root_ / id;
}

void StateStore::create_container_dir(const std::string& id) const {
    ensure_private_dir(root_);
    fs::path dir = container_dir(id);
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno == EEXIST) throw Error(Errc::already_exists, id + ": container with given ID already exists");
        throw_errno("create " + dir.string(), errno);
    }
}

bool StateStore::exists(const std::string& id) const {
    std::error_code ec;
    return fs::is_directory(container_dir(id), ec);
}

FileLock StateStore::lock(const std::string& id) const {
    fs::path dir = container_dir(id);
    if (!exists(id)) throw Error(Errc::not_found, id + ": container does not exist");
    return FileLock(dir);
}

void StateStore::write(const ContainerState& state) const {
    // <root> is a tmpfs by default and gone after a reboot: no fsync needed.
    write_file_atomic(container_dir(state.id) / "state.json", json::serialize(state.to_json()) + "\n", 0600,
                      Durability::process);
}

std::optional<ContainerState> StateStore::read(const std::string& id) const {
    fs::path file = container_dir(id) / "state.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        if (!exists(id)) throw Error(Errc::not_found, id + ": container does not exist");
        return std::nullopt;
    }
    return ContainerState::from_json(read_json_file(file), file.string());
}

void StateStore::remove(const std::string& id) const {
    std::error_code ec;
    fs::remove_all(container_dir(id), ec);
    if (ec) throw_errno("remove " + container_dir(id).string(), ec.value());
}

std::vector<std::string> StateStore::ids() const {
    std::vector<std::string> result;
    std::error_code ec;
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
        try {
            validate_container_id(name);
        } catch (const Error&) {
            continue;  // not ours
        }
        result.push_back(name);
    }
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace lxcri
