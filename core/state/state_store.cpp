#include "state/state_store.hpp"

#include "bundle/fd_util.hpp"
#include "config/config.hpp"
#include "oci/json_reader.hpp"
#include "state/container_id.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/process.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri {
namespace {

using oci::detail::Fields;
using oci::detail::Problems;

// Linux's PID_MAX_LIMIT: no pid is larger.
constexpr pid_t pid_max = 1 << 22;
constexpr const char* creator_file = "creator";
constexpr const char* state_file = "state.json";

std::optional<Status> parse_status(std::string_view s) {
    for (Status status : {Status::creating, Status::created, Status::running, Status::paused, Status::stopped})
        if (to_string(status) == s) return status;
    return std::nullopt;
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
    if (init_start_time) object["initStartTime"] = *init_start_time;
    return object;
}

ContainerState ContainerState::from_json(const json::value& value, const std::string& what) {
    Problems problems;
    ContainerState state;
    if (const auto* object = problems.object(value, "")) {
        Fields fields(problems, *object, "");
        for (const char* key : {"ociVersion", "id", "status", "pid", "bundle", "vmid", "backend", "created"})
            fields.require(key);
        fields.read("ociVersion", state.oci_version);
        fields.read("id", state.id);
        if (std::string status; fields.read("status", status)) {
            if (auto known = parse_status(status))
                state.status = *known;
            else
                fields.add("status", "'" + status + "' is not a status");
        }
        fields.read("pid", state.pid, pid_t(0), pid_max);
        if (std::string bundle; fields.read("bundle", bundle)) {
            if (fs::path(bundle).is_absolute() && bundle.find('\0') == std::string::npos)
                state.bundle = bundle;
            else
                fields.add("bundle", "must be an absolute path");
        }
        fields.read("annotations", state.annotations);
        fields.read("vmid", state.vmid, vmid_hard_min, vmid_hard_max);
        if (fields.read("backend", state.backend) && !is_valid_plugin_name(state.backend))
            fields.add("backend", "'" + state.backend + "' is not a valid plugin name");
        fields.read("created", state.created);
        fields.read("initStartTime", state.init_start_time);
    }
    if (!problems.list().empty()) throw Error(Errc::failed, what + ": " + oci::to_string(problems.list().front()));
    return state;
}

StateStore::StateStore(fs::path root) : root_(std::move(root)) {}

fs::path StateStore::container_dir(const std::string& id) const {
    validate_container_id(id);
    return root_ / id;
}

FileLock StateStore::create_container_dir(const std::string& id) const {
    ensure_private_dir(root_);
    ensure_private_dir(creating_dir());
    fs::path dir = container_dir(id);
    // Made and locked in <root>/.creating, then renamed into place: nobody
    // (a delete --force) sees it unlocked, and what a killed create left is
    // found without a readdir of <root>, which may hold thousands.
    for (;;) {
        std::string temp = (creating_dir() / (id + ".XXXXXX")).string();
        if (!::mkdtemp(temp.data())) throw_errno("create a directory in " + creating_dir().string(), errno);
        std::optional<FileLock> lock;
        try {
            lock.emplace(temp);
        } catch (...) {
            ::remove(temp.c_str());
            throw;
        }
        // remove_unclaimed may have taken it for a killed create's before
        // we locked it (FileLock then made a file of that name): again.
        struct stat st {};
        if (!lock->is_current(temp) || ::lstat(temp.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            ::remove(temp.c_str());
            continue;
        }
        // Who holds the lock: delete --force stops a create that is stuck.
        try {
            write_file_atomic(fs::path(temp) / creator_file,
                              std::to_string(::getpid()) + " " +
                                  std::to_string(process_start_time(::getpid()).value_or(0)) + "\n",
                              0600, Durability::process);
        } catch (...) {
            fs::remove_all(temp);
            throw;
        }
        if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) != 0) {
            int err = errno;
            std::error_code ec;
            fs::remove_all(temp, ec);
            if (err == EEXIST) throw Error(Errc::already_exists, id + ": container with given ID already exists");
            throw_errno("create " + dir.string(), err);
        }
        return std::move(*lock);
    }
}

bool StateStore::exists(const std::string& id) const {
    fs::path dir = container_dir(id);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode);
    // Absent is "no"; a --root we may not read is an error, not "no".
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno("stat " + dir.string(), errno);
}

FileLock StateStore::lock(const std::string& id) const {
    fs::path dir = container_dir(id);
    for (;;) {
        if (!exists(id)) throw Error(Errc::not_found, id + ": container does not exist");
        std::optional<FileLock> lock;
        try {
            lock.emplace(dir);
        } catch (const Error& e) {
            if (e.code() == Errc::not_found) continue;  // removed meanwhile: exists() says so
            throw;
        }
        // Removed while we waited (a concurrent delete), or removed and made
        // anew (a create of the same id): lock what is there now.
        if (lock->is_current(dir)) return std::move(*lock);
    }
}

std::optional<FileLock> StateStore::try_lock(const std::string& id) const {
    fs::path dir = container_dir(id);
    for (;;) {
        if (!exists(id)) throw Error(Errc::not_found, id + ": container does not exist");
        std::optional<FileLock> lock;
        try {
            lock = FileLock::try_exclusive(dir);
        } catch (const Error& e) {
            if (e.code() == Errc::not_found) continue;
            throw;
        }
        if (!lock || lock->is_current(dir)) return lock;
    }
}

std::optional<std::pair<pid_t, std::uint64_t>> StateStore::creator(const std::string& id) const {
    std::istringstream line(read_first_line(container_dir(id) / creator_file));
    long long pid = 0;
    std::uint64_t start_time = 0;
    if (!(line >> pid >> start_time) || pid <= 0 || pid > pid_max) return std::nullopt;
    return std::pair{static_cast<pid_t>(pid), start_time};
}

void StateStore::write(const ContainerState& state) const {
    // <root> is a tmpfs by default and gone after a reboot: no fsync needed.
    write_file_atomic(container_dir(state.id) / state_file, json::serialize(state.to_json()) + "\n", 0600,
                      Durability::process);
}

bool StateStore::has_state(const std::string& id) const {
    std::error_code ec;
    return fs::exists(container_dir(id) / state_file, ec);
}

std::optional<ContainerState> StateStore::read(const std::string& id) const {
    fs::path file = container_dir(id) / state_file;
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        if (errno != ENOENT) throw_errno("stat " + file.string(), errno);
        if (!exists(id)) throw Error(Errc::not_found, id + ": container does not exist");
        return std::nullopt;
    }
    // Never opened when it is not a file: a fifo would block, a symlink
    // could name any file of the host.
    if (!S_ISREG(st.st_mode)) throw Error(Errc::failed, file.string() + ": not a regular file");
    ContainerState state = ContainerState::from_json(read_json_file(file, Errc::failed), file.string());
    // The directory names the container: a file that names another one
    // must never make an operation act on that one.
    if (state.id != id)
        throw Error(Errc::failed, file.string() + ": id: '" + state.id + "' is not the id of its directory '" + id + "'");
    return state;
}

void StateStore::remove(const std::string& id) const {
    std::error_code ec;
    fs::remove_all(container_dir(id), ec);
    if (ec) throw_errno("remove " + container_dir(id).string(), ec.value());
    remove_unclaimed(id);
}

void StateStore::remove_unclaimed(const std::string& id) const {
    // One whose create still holds its lock is that create's.
    std::string prefix = container_dir(id).filename().string() + ".";
    UniqueFd creating(::open(creating_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::vector<bundle::DirEntry> entries;
    if (!creating || !bundle::list_dir(creating.get(), entries)) return;
    for (const auto& entry : entries) {
        if (!entry.name.starts_with(prefix) || entry.name.size() != prefix.size() + 6) continue;
        fs::path path = creating_dir() / entry.name;
        UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        // Its creator file, and the temporary file of a write of it that was killed.
        if (dir && ::flock(dir.get(), LOCK_EX | LOCK_NB) == 0) {
            std::error_code removed;
            fs::remove_all(path, removed);
        }
    }
}

std::vector<std::string> StateStore::ids() const {
    std::vector<std::string> result;
    std::error_code ec;
    fs::directory_iterator it(root_, ec);
    // No --root yet is no container; one we may not read is an error.
    if (ec == std::errc::no_such_file_or_directory) return result;
    if (ec) throw_errno("read " + root_.string(), ec.value());
    for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::error_code entry_ec;  // an entry removed meanwhile is just not listed
        if (!it->is_directory(entry_ec) || it->is_symlink(entry_ec)) continue;
        try {
            validate_container_id(name);
        } catch (const Error&) {
            continue;  // not ours
        }
        result.push_back(name);
    }
    if (ec) throw_errno("read " + root_.string(), ec.value());
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace lxcri
