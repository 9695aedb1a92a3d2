#include "state/mapping_store.hpp"

#include "bundle/fd_util.hpp"
#include "config/config.hpp"
#include "oci/json_reader.hpp"
#include "state/container_id.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <utility>

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

// An entry's file name: <id>@<vmid>, the VMID in its canonical decimal
// form (so that one VMID has one name).
std::string entry_name(const std::string& id, Vmid vmid) { return id + "@" + std::to_string(vmid); }

struct ParsedName {
    std::string id;
    Vmid vmid = 0;
};

// What a name in mapping/ says, or why it is no entry's name.
ParsedName parse_entry_name(const std::string& name, const fs::path& dir) {
    auto fail = [&](const std::string& why) {
        return Error(Errc::failed, (dir / name).string() + ": not a mapping entry (<id>@<vmid>): " + why);
    };
    auto at = name.find('@');
    if (at == std::string::npos) throw fail("no '@'");
    ParsedName parsed{name.substr(0, at), 0};
    try {
        validate_container_id(parsed.id);
    } catch (const Error& e) {
        throw fail(e.what());
    }
    std::string_view digits = std::string_view(name).substr(at + 1);
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || digits.size() > 10 || error != std::errc() || end != digits.data() + digits.size())
        throw fail("'" + std::string(digits) + "' is no VMID");
    if (value < vmid_hard_min || value > vmid_hard_max || digits.front() == '0')
        throw fail("VMID '" + std::string(digits) + "' must be between " + std::to_string(vmid_hard_min) + " and " +
                   std::to_string(vmid_hard_max) + ", without leading zeros");
    parsed.vmid = static_cast<Vmid>(value);
    return parsed;
}

std::string entry_content(const MappingEntry& entry) {
    return to_pretty_json(json::object{{"backend", entry.backend}, {"created", entry.created}});
}

// A file of mapping/: {"backend": "...", "created": "..."}, checked like
// user input.
MappingEntry read_entry(const fs::path& file, Vmid vmid) {
    json::value document = read_json_file(file, Errc::failed);
    Problems problems;
    MappingEntry entry{vmid, "", ""};
    if (const auto* object = problems.object(document, "")) {
        Fields fields(problems, *object, "");
        if (fields.require("backend") && fields.read("backend", entry.backend) && !is_valid_plugin_name(entry.backend))
            fields.add("backend", "'" + entry.backend + "' is not a valid plugin name");
        fields.read("created", entry.created);
    }
    if (!problems.list().empty())
        throw Error(Errc::failed, file.string() + ": " + oci::to_string(problems.list().front()));
    return entry;
}

// An entry put aside by Transaction::save is a hard link
// .saved.<pid>.<name>: one left by a process that was killed is removed by
// the next transaction, once no process of that pid lives. Every other
// dot file in mapping/ is the temporary file of a write that was killed
// (writes run only under the lock), and is removed at once.
constexpr std::string_view saved_prefix = ".saved.";

bool is_orphaned(const std::string& name) {
    if (!name.starts_with(saved_prefix)) return true;
    std::string pid = name.substr(saved_prefix.size());
    pid = pid.substr(0, pid.find('.'));
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return true;
    return ::kill(std::stoi(pid), 0) != 0 && errno == ESRCH;
}

void rename_entry(const fs::path& from, const fs::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) throw_errno("rename " + from.string() + " to " + to.string(), errno);
}

}  // namespace

MappingStore::MappingStore(fs::path state_dir)
    : state_dir_(std::move(state_dir)), dir_(state_dir_ / "mapping"), legacy_file_(state_dir_ / "mapping.json") {}

MappingStore::Saved::Saved(Saved&& other) noexcept
    : file_(std::exchange(other.file_, {})), name_(std::move(other.name_)) {}

MappingStore::Saved& MappingStore::Saved::operator=(Saved&& other) noexcept {
    if (this != &other) {
        if (!file_.empty()) ::unlink(file_.c_str());
        file_ = std::exchange(other.file_, {});
        name_ = std::move(other.name_);
    }
    return *this;
}

MappingStore::Saved::~Saved() {
    if (!file_.empty()) ::unlink(file_.c_str());
}

MappingStore::Transaction::Transaction(const MappingStore& store)
    : state_dir_(store.state_dir_), dir_(store.dir_), legacy_file_(store.legacy_file_),
      lock_((ensure_private_dir(state_dir_), state_dir_ / "mapping.lock")) {
    std::error_code ec;
    std::optional<Mapping> legacy;
    if (fs::exists(legacy_file_, ec)) legacy = load(legacy_file_);  // damaged: nothing is made
    ensure_private_dir(dir_);
    scan();
    if (legacy) import_legacy(*legacy);
}

// The names in mapping/: every id and VMID, each once. A plain readdir:
// this is the one part of a create that grows with the number of
// containers.
void MappingStore::Transaction::scan() {
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::vector<bundle::DirEntry> entries;
    if (!dir || !bundle::list_dir(dir.get(), entries)) throw_errno("read directory " + dir_.string(), errno);
    ids_.reserve(entries.size());
    for (const auto& [name, type] : entries) {
        if (name.starts_with(".")) {
            if (is_orphaned(name)) ::unlinkat(dir.get(), name.c_str(), 0);
            continue;
        }
        ParsedName parsed = parse_entry_name(name, dir_);
        if (auto [other, fresh] = ids_.emplace(parsed.id, parsed.vmid); !fresh)
            throw Error(Errc::failed, dir_.string() + ": '" + parsed.id + "' has two entries, " +
                                          entry_name(parsed.id, other->second) + " and " + name);
        if (auto [owner, fresh] = vmids_.emplace(parsed.vmid, parsed.id); !fresh)
            throw Error(Errc::failed, dir_.string() + ": VMID " + std::to_string(parsed.vmid) +
                                          " is the VMID of '" + owner->second + "' and of '" + parsed.id + "'");
    }
}

// mapping.json of 0.1, checked whole before any entry is moved. The
// entries are written, made durable together (one syncfs instead of two
// fsyncs each: 2,000 entries took 2.5 s one by one), and only then is
// mapping.json removed: killed or cut off before that, the next
// transaction writes every entry again (the same names).
void MappingStore::Transaction::import_legacy(const Mapping& legacy) {
    for (const auto& [id, entry] : legacy) write_entry(id, entry, Durability::process);
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::syncfs(dir.get()) != 0) throw_errno("sync " + dir_.string(), errno);
    if (::unlink(legacy_file_.c_str()) != 0) throw_errno("remove " + legacy_file_.string(), errno);
    fsync_dir(state_dir_);
    log::info(legacy_file_.string() + ": moved into " + dir_.string());
}

fs::path MappingStore::Transaction::entry_file(const std::string& id) const {
    return dir_ / entry_name(id, ids_.at(id));
}

void MappingStore::Transaction::forget(const std::string& id) {
    if (auto it = ids_.find(id); it != ids_.end()) {
        vmids_.erase(it->second);
        ids_.erase(it);
    }
}

std::optional<MappingEntry> MappingStore::Transaction::find(const std::string& id) const {
    auto it = ids_.find(id);
    if (it == ids_.end()) return std::nullopt;
    return read_entry(entry_file(id), it->second);
}

void MappingStore::Transaction::put(const std::string& id, const MappingEntry& entry) {
    write_entry(id, entry, Durability::crash);
}

// A new VMID for an id that has one is two renames: the new content under
// the old name, then the new name; the id has one entry throughout.
void MappingStore::Transaction::write_entry(const std::string& id, const MappingEntry& entry, Durability durability) {
    if (auto owner = vmids_.find(entry.vmid); owner != vmids_.end() && owner->second != id)
        throw Error(Errc::failed, dir_.string() + ": VMID " + std::to_string(entry.vmid) +
                                      " is the VMID of '" + owner->second + "', not free for '" + id + "'");
    fs::path target = dir_ / entry_name(id, entry.vmid);
    if (ids_.count(id) && ids_.at(id) != entry.vmid) {
        fs::path old = entry_file(id);
        write_file_atomic(old, entry_content(entry), 0600, durability);
        rename_entry(old, target);
        if (durability == Durability::crash) fsync_dir(dir_);
        forget(id);
    } else {
        write_file_atomic(target, entry_content(entry), 0600, durability);
    }
    ids_[id] = entry.vmid;
    vmids_[entry.vmid] = id;
}

void MappingStore::Transaction::erase(const std::string& id) {
    if (!ids_.count(id)) return;
    fs::path file = entry_file(id);
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) throw_errno("remove " + file.string(), errno);
    fsync_dir(dir_);
    forget(id);
}

void MappingStore::Transaction::check_writable() const {
    if (::access(dir_.c_str(), W_OK) != 0) throw_errno("write to " + dir_.string(), errno);
}

MappingStore::Saved MappingStore::Transaction::save(const std::string& id) const {
    Saved saved;
    if (!ids_.count(id)) return saved;
    saved.name_ = entry_name(id, ids_.at(id));
    fs::path link = dir_ / (std::string(saved_prefix) + std::to_string(::getpid()) + "." + saved.name_);
    ::unlink(link.c_str());  // left by an earlier process with our pid
    if (::link(entry_file(id).c_str(), link.c_str()) != 0) throw_errno("link " + link.string(), errno);
    saved.file_ = link;
    return saved;
}

// Renames only: the id's current entry (if any) takes the old name, then
// the saved file replaces it; the id has at most one entry throughout.
void MappingStore::Transaction::restore(const std::string& id, Saved& saved) {
    Saved taken = std::move(saved);
    if (taken.file_.empty()) {
        erase(id);
        return;
    }
    ParsedName old = parse_entry_name(taken.name_, dir_);
    if (auto owner = vmids_.find(old.vmid); owner != vmids_.end() && owner->second != id) {
        log::warning(id + ": VMID " + std::to_string(old.vmid) + " went to '" + owner->second +
                     "' meanwhile; the entry of '" + id + "' is removed, not restored");
        erase(id);
        return;
    }
    fs::path target = dir_ / taken.name_;
    if (ids_.count(id) && entry_file(id) != target) rename_entry(entry_file(id), target);
    rename_entry(taken.file_, target);
    taken.file_.clear();
    fsync_dir(dir_);
    forget(id);
    ids_[id] = old.vmid;
    vmids_[old.vmid] = id;
}

MappingStore::Transaction MappingStore::begin() const { return Transaction(*this); }

Mapping MappingStore::read() const {
    Transaction transaction(*this);
    Mapping mapping;
    for (const auto& [vmid, id] : transaction.vmids_) mapping.emplace(id, *transaction.find(id));
    return mapping;
}

}  // namespace lxcri
