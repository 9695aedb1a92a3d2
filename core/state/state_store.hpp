#pragma once

#include "util/fs.hpp"

#include <lxcri/types.hpp>

#include <boost/json.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lxcri {

// state.json: the OCI state plus what proxmox-lxcri needs to find the
// container again (vmid, backend).
struct ContainerState {
    std::string oci_version;
    std::string id;
    Status status = Status::creating;
    pid_t pid = 0;
    std::filesystem::path bundle;
    std::map<std::string, std::string> annotations;
    Vmid vmid = 0;
    std::string backend;
    std::string created;  // RFC 3339
    // Set when the backend said status_from_init (backend.hpp): the start
    // time of the init at `pid`, which tells it apart from a later process
    // with the same pid. The core then tells the live status itself.
    std::optional<std::uint64_t> init_start_time;

    boost::json::object to_json() const;
    static ContainerState from_json(const boost::json::value& value, const std::string& what);
};

// The OCI runtime-spec version the state documents follow.
inline constexpr const char* state_oci_version = "1.2.0";

// Per-container runtime directories: <root>/<id>/state.json (0700 dirs).
class StateStore {
public:
    explicit StateStore(std::filesystem::path root);

    std::filesystem::path container_dir(const std::string& id) const;

    // Makes <root>/<id> exclusively: of two creates racing for one id,
    // exactly one gets here. Error(already_exists) for the other. The
    // directory is locked (the lock returned) before it appears.
    FileLock create_container_dir(const std::string& id) const;
    // The process whose create made <root>/<id> ("creator": pid and start
    // time, written before the directory got its name); nullopt when it is
    // not recorded.
    std::optional<std::pair<pid_t, std::uint64_t>> creator(const std::string& id) const;
    // Error(permission) when <root> cannot be read: never "does not exist".
    bool exists(const std::string& id) const;

    // Locks the container (its directory) for a read-modify-write; when it
    // is removed while we wait, Error(not_found).
    FileLock lock(const std::string& id) const;
    // The same without waiting: nullopt while another holds the lock.
    std::optional<FileLock> try_lock(const std::string& id) const;

    void write(const ContainerState& state) const;               // atomic
    // nullopt: no state.json yet. A state.json that is not a regular file,
    // or not a valid state of this id, is an error naming it.
    std::optional<ContainerState> read(const std::string& id) const;
    // Whether <root>/<id>/state.json is there (a create has written it), unread.
    bool has_state(const std::string& id) const;
    void remove(const std::string& id) const;                    // the whole <root>/<id>, and remove_unclaimed
    // Removes what a create killed before its directory got its name left
    // (a <root>/.creating/<id>.XXXXXX, with nothing but its creator file, whose lock nobody holds).
    void remove_unclaimed(const std::string& id) const;
    // Where a create makes its directory before it gets its name.
    std::filesystem::path creating_dir() const { return root_ / ".creating"; }

    // Ids of every container directory, sorted.
    std::vector<std::string> ids() const;

private:
    std::filesystem::path root_;
};

}  // namespace lxcri
