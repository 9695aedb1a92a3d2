#include "state/mapping_store.hpp"

#include "config/config.hpp"
#include "oci/json_reader.hpp"
#include "state/container_id.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri {
namespace {

using oci::detail::Fields;
using oci::detail::Problems;

constexpr std::int64_t format_version = 1;

// containers: {"<id>": {"vmid": N, "backend": "...", "created": "..."}}.
// Each entry is checked like user input: a valid id, a VMID Proxmox
// accepts and no other entry has, a valid plugin name.
Mapping read_entries(const json::object& containers, Problems& problems) {
    Mapping mapping;
    std::map<Vmid, std::string> owners;
    for (const auto& [id, value] : containers) {
        std::string path = key_path("containers", id);
        try {
            validate_container_id(id);
        } catch (const Error& e) {
            problems.add(path, e.what());
            continue;
        }
        const auto* entry = problems.object(value, path);
        if (!entry) continue;
        Fields fields(problems, *entry, path);
        MappingEntry e;
        if (fields.require("vmid") && fields.read("vmid", e.vmid, vmid_hard_min, vmid_hard_max)) {
            if (auto [owner, fresh] = owners.emplace(e.vmid, id); !fresh)
                fields.add("vmid", std::to_string(e.vmid) + " is the VMID of '" + owner->second + "' too");
        }
        if (fields.require("backend") && fields.read("backend", e.backend) && !is_valid_plugin_name(e.backend))
            fields.add("backend", "'" + e.backend + "' is not a valid plugin name");
        fields.read("created", e.created);
        mapping.emplace(std::string(id), std::move(e));
    }
    return mapping;
}

Mapping load(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return {};
    json::value document = read_json_file(file, Errc::failed);
    Problems problems;
    Mapping mapping;
    if (const auto* object = problems.object(document, "")) {
        Fields fields(problems, *object, "");
        std::int64_t version = 0;
        if (fields.require("version") && fields.read("version", version) && version != format_version)
            throw Error(Errc::failed, file.string() + ": format version " + std::to_string(version) +
                                          " is not supported (expected " + std::to_string(format_version) + ")");
        if (fields.require("containers"))
            if (const auto* containers = fields.object("containers")) mapping = read_entries(*containers, problems);
    }
    if (!problems.list().empty())
        throw Error(Errc::failed, file.string() + ": " + oci::to_string(problems.list().front()));
    return mapping;
}

std::string dump(const Mapping& mapping) {
    json::object containers;
    for (const auto& [id, entry] : mapping)
        containers[id] = json::object{{"vmid", entry.vmid}, {"backend", entry.backend}, {"created", entry.created}};
    return to_pretty_json(json::object{{"version", format_version}, {"containers", std::move(containers)}});
}

// A reserve is a temporary file named after its process,
// .reserve.<pid>.XXXXXX: one left by a create that was killed is removed
// by the next transaction, once no process of that pid lives.
constexpr const char* reserve_prefix = ".reserve.";

void remove_orphaned_reserves(const fs::path& state_dir) {
    std::error_code ec;
    for (fs::directory_iterator it(state_dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!name.starts_with(reserve_prefix)) continue;
        std::string pid = name.substr(std::string(reserve_prefix).size());
        pid = pid.substr(0, pid.find('.'));
        if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (::kill(std::stoi(pid), 0) != 0 && errno == ESRCH) {
            std::error_code removed;
            fs::remove(it->path(), removed);
        }
    }
}

}  // namespace

MappingStore::MappingStore(fs::path state_dir)
    : state_dir_(std::move(state_dir)), file_(state_dir_ / "mapping.json") {}

MappingStore::Transaction::Transaction(const MappingStore& store)
    : store_(store), lock_((ensure_private_dir(store.state_dir_), store.state_dir_ / "mapping.lock")),
      entries_(load(store.file_)), original_(entries_) {
    remove_orphaned_reserves(store.state_dir_);
}

void MappingStore::Transaction::prepare() {
    pending_.reset();
    pending_.emplace(store_.file_, dump(entries_), 0600, Durability::crash);
    prepared_ = entries_;
}

void MappingStore::Transaction::commit() {
    if (entries_ == original_) return;
    if (!pending_ || prepared_ != entries_) prepare();
    pending_->commit();
    pending_.reset();
    original_ = entries_;
}

std::shared_ptr<PendingWrite> MappingStore::Transaction::reserve() const {
    fs::path name = store_.state_dir_ / (std::string(reserve_prefix + 1) + std::to_string(::getpid()));
    return std::make_shared<PendingWrite>(name, dump(entries_), 0600, Durability::process);
}

MappingStore::Transaction MappingStore::begin() const { return Transaction(*this); }

Mapping MappingStore::read() const { return load(file_); }

}  // namespace lxcri
