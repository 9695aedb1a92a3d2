#include "state/mapping_store.hpp"

#include "bundle/fd_util.hpp"
#include "config/config.hpp"
#include "oci/json_reader.hpp"
#include "state/container_id.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <utility>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri {
namespace {

using oci::detail::Fields;
using oci::detail::Problems;

constexpr std::int64_t format_version = 1;

// An entry's members, checked like user input (in mapping/ and in the
// mapping.json of 0.1): a VMID Proxmox accepts, then a valid plugin name
// and the creation time. read_vmid is true when the VMID was read.
bool read_vmid(Fields& fields, MappingEntry& entry) {
    return fields.require("vmid") && fields.read("vmid", entry.vmid, vmid_hard_min, vmid_hard_max);
}

void read_backend_and_created(Fields& fields, MappingEntry& entry) {
    if (fields.require("backend") && fields.read("backend", entry.backend) && !is_valid_plugin_name(entry.backend))
        fields.add("backend", "'" + entry.backend + "' is not a valid plugin name");
    fields.read("created", entry.created);
}

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
        if (read_vmid(fields, e)) {
            if (auto [owner, fresh] = owners.emplace(e.vmid, id); !fresh)
                fields.add("vmid", std::to_string(e.vmid) + " is the VMID of '" + owner->second + "' too");
        }
        read_backend_and_created(fields, e);
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

// A VMID's claim: @<vmid>, the VMID in its canonical decimal form (so
// that one VMID has one name).
constexpr char claim_mark = '@';
std::string claim_name(Vmid vmid) { return claim_mark + std::to_string(vmid); }

Error damaged(const fs::path& file, const std::string& why) {
    return Error(Errc::failed, file.string() + ": " + why);
}

// The VMID a claim's name gives, or why it is no claim's name.
Vmid parse_claim_name(const std::string& name, const fs::path& dir) {
    std::string_view digits = std::string_view(name).substr(1);
    auto fail = [&](const std::string& why) { return damaged(dir / name, "not a VMID's claim (@<vmid>): " + why); };
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || digits.size() > 10 || error != std::errc() || end != digits.data() + digits.size())
        throw fail("'" + std::string(digits) + "' is no VMID");
    if (value < vmid_hard_min || value > vmid_hard_max || digits.front() == '0')
        throw fail("VMID '" + std::string(digits) + "' must be between " + std::to_string(vmid_hard_min) + " and " +
                   std::to_string(vmid_hard_max) + ", without leading zeros");
    return static_cast<Vmid>(value);
}

// The id a claim names; nullopt when there is no claim.
std::optional<std::string> read_claim(const fs::path& file) {
    char target[256];
    ssize_t n = ::readlink(file.c_str(), target, sizeof target);
    if (n < 0 && errno == ENOENT) return std::nullopt;
    if (n < 0 && errno == EINVAL) throw damaged(file, "not a VMID's claim: not a symbolic link");
    if (n < 0) throw_errno("read " + file.string(), errno);
    std::string id(target, static_cast<size_t>(n));
    try {
        if (static_cast<size_t>(n) == sizeof target) throw Error(Errc::failed, "too long");
        validate_container_id(id);
    } catch (const Error& e) {
        throw damaged(file, std::string("not a VMID's claim: ") + e.what());
    }
    return id;
}

std::string entry_content(const MappingEntry& entry) {
    return to_pretty_json(
        json::object{{"vmid", entry.vmid}, {"backend", entry.backend}, {"created", entry.created}});
}

// An entry's file, {"vmid": N, "backend": "...", "created": "..."}, checked
// like user input; nullopt when there is none.
std::optional<MappingEntry> read_entry(const fs::path& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("read " + file.string(), errno);
    }
    if (!S_ISREG(st.st_mode)) throw damaged(file, "not a mapping entry: not a regular file");
    json::value document = read_json_file(file, Errc::failed);
    Problems problems;
    MappingEntry entry;
    if (const auto* object = problems.object(document, "")) {
        Fields fields(problems, *object, "");
        read_vmid(fields, entry);
        read_backend_and_created(fields, entry);
    }
    if (!problems.list().empty()) throw damaged(file, oci::to_string(problems.list().front()));
    return entry;
}

// An entry put aside by Transaction::save is a hard link .saved.<pid>.<id>:
// one left by a process that was killed is removed once no process of that
// pid lives. Every other dot file in mapping/ is the temporary file of a
// write that was killed (writes run only under the lock), and is removed
// at once.
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
    : file_(std::exchange(other.file_, {})), claim_(std::exchange(other.claim_, {})), vmid_(other.vmid_) {}

MappingStore::Saved& MappingStore::Saved::operator=(Saved&& other) noexcept {
    if (this != &other) {
        drop();
        file_ = std::exchange(other.file_, {});
        claim_ = std::exchange(other.claim_, {});
        vmid_ = other.vmid_;
    }
    return *this;
}

MappingStore::Saved::~Saved() { drop(); }

void MappingStore::Saved::drop() noexcept {
    for (auto* link : {&file_, &claim_}) {
        if (!link->empty()) ::unlink(link->c_str());
        link->clear();
    }
}

MappingStore::Transaction::Transaction(const MappingStore& store)
    : state_dir_(store.state_dir_), dir_(store.dir_), legacy_file_(store.legacy_file_),
      lock_((ensure_private_dir(state_dir_), state_dir_ / "mapping.lock")) {
    std::optional<Mapping> legacy;
    if (::access(legacy_file_.c_str(), F_OK) == 0) legacy = load(legacy_file_);  // damaged: nothing is made
    ensure_private_dir(dir_);
    if (legacy) import_legacy(*legacy);
}

// mapping.json of 0.1, checked whole before any entry is moved. The
// entries are written, made durable together (one syncfs instead of three
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

const std::optional<MappingEntry>& MappingStore::Transaction::entry(const std::string& id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) it = entries_.emplace(id, read_entry(dir_ / id)).first;
    return it->second;
}

std::optional<MappingEntry> MappingStore::Transaction::find(const std::string& id) {
    validate_container_id(id);
    const auto& found = entry(id);
    if (!found) return std::nullopt;
    fs::path claim = dir_ / claim_name(found->vmid);
    auto owner = read_claim(claim);
    if (!owner) throw damaged(dir_ / id, "VMID " + std::to_string(found->vmid) + " has no claim " + claim.string());
    if (*owner != id)
        throw damaged(dir_ / id, "VMID " + std::to_string(found->vmid) + " is claimed by '" + *owner + "' (" +
                                     claim.string() + ")");
    return found;
}

std::optional<std::string> MappingStore::Transaction::owner(Vmid vmid) {
    fs::path claim = dir_ / claim_name(vmid);
    auto id = read_claim(claim);
    if (!id) return std::nullopt;
    if (const auto& found = entry(*id); found && found->vmid == vmid) return id;
    // Left by a process killed between the claim and the entry, or
    // between an entry's removal and its claim's.
    if (::unlink(claim.c_str()) != 0 && errno != ENOENT) throw_errno("remove " + claim.string(), errno);
    return std::nullopt;
}

std::vector<std::string> MappingStore::Transaction::names() {
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::vector<bundle::DirEntry> entries;
    if (!dir || !bundle::list_dir(dir.get(), entries)) throw_errno("read directory " + dir_.string(), errno);
    std::vector<std::string> result;
    result.reserve(entries.size());
    for (auto& entry : entries) {
        if (!entry.name.starts_with("."))
            result.push_back(std::move(entry.name));
        else if (is_orphaned(entry.name))
            ::unlinkat(dir.get(), entry.name.c_str(), 0);
    }
    return result;
}

// From the names alone (one readdir): every entry has its claim, so
// claims beyond the number of entries were left by killed processes, and
// only then is each claim looked up (which removes those).
std::vector<Vmid> MappingStore::Transaction::vmids() {
    std::vector<Vmid> claims;
    size_t entries = 0;
    for (const auto& name : names()) {
        if (name.front() == claim_mark)
            claims.push_back(parse_claim_name(name, dir_));
        else
            ++entries;
    }
    if (claims.size() > entries)
        std::erase_if(claims, [this](Vmid vmid) { return !owner(vmid); });
    std::sort(claims.begin(), claims.end());
    return claims;
}

void MappingStore::Transaction::claim(Vmid vmid, const std::string& id, Durability durability) {
    fs::path claim = dir_ / claim_name(vmid);
    if (::symlink(id.c_str(), claim.c_str()) != 0) throw_errno("claim " + claim.string(), errno);
    if (durability == Durability::crash) fsync_dir(dir_);
}

// Removes the id's claim of `vmid` (no fsync: a claim whose entry does not
// give it is no claim).
void MappingStore::Transaction::release(Vmid vmid, const std::string& id) {
    fs::path claim = dir_ / claim_name(vmid);
    if (read_claim(claim) == id && ::unlink(claim.c_str()) != 0 && errno != ENOENT)
        throw_errno("remove " + claim.string(), errno);
}

void MappingStore::Transaction::put(const std::string& id, const MappingEntry& entry) {
    write_entry(id, entry, Durability::crash);
}

// The VMID is claimed first, then the entry written; a new VMID's old
// claim is released last. The id has one entry throughout.
void MappingStore::Transaction::write_entry(const std::string& id, const MappingEntry& wanted, Durability durability) {
    validate_container_id(id);
    auto holder = owner(wanted.vmid);
    if (holder && *holder != id)
        throw Error(Errc::failed, dir_.string() + ": VMID " + std::to_string(wanted.vmid) + " is the VMID of '" +
                                      *holder + "', not free for '" + id + "'");
    std::optional<MappingEntry> old = entry(id);
    if (!holder) claim(wanted.vmid, id, durability);
    write_file_atomic(dir_ / id, entry_content(wanted), 0600, durability);
    entries_[id] = wanted;
    if (old && old->vmid != wanted.vmid) release(old->vmid, id);
}

void MappingStore::Transaction::erase(const std::string& id) {
    validate_container_id(id);
    std::optional<MappingEntry> old = entry(id);
    if (!old) return;
    fs::path file = dir_ / id;
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) throw_errno("remove " + file.string(), errno);
    fsync_dir(dir_);
    entries_[id] = std::nullopt;
    release(old->vmid, id);
}

void MappingStore::Transaction::check_writable() const {
    if (::access(dir_.c_str(), W_OK) != 0) throw_errno("write to " + dir_.string(), errno);
}

MappingStore::Saved MappingStore::Transaction::save(const std::string& id) {
    Saved saved;
    validate_container_id(id);
    const auto& current = entry(id);
    if (!current) return saved;
    // The entry and its claim (a link to the symlink itself): if a new
    // VMID releases the old one, the undo renames the claim back.
    std::string prefix = std::string(saved_prefix) + std::to_string(::getpid()) + ".";
    for (const auto& [name, kept] : {std::pair(id, &saved.file_), std::pair(claim_name(current->vmid), &saved.claim_)}) {
        fs::path link = dir_ / (prefix + name);
        ::unlink(link.c_str());  // left by an earlier process with our pid
        if (::linkat(AT_FDCWD, (dir_ / name).c_str(), AT_FDCWD, link.c_str(), 0) != 0)
            throw_errno("link " + link.string(), errno);
        *kept = link;
    }
    saved.vmid_ = current->vmid;
    return saved;
}

// Renames only, so an undo needs no disk space (the old VMID's claim comes
// back first when it was released): the id has at most one entry
// throughout.
void MappingStore::Transaction::restore(const std::string& id, Saved& saved) {
    Saved taken = std::move(saved);
    if (taken.file_.empty()) {
        erase(id);
        return;
    }
    auto holder = owner(taken.vmid_);
    if (holder && *holder != id) {
        log::warning(id + ": VMID " + std::to_string(taken.vmid_) + " went to '" + *holder +
                     "' meanwhile; the entry of '" + id + "' is removed, not restored");
        erase(id);
        return;
    }
    std::optional<MappingEntry> current = entry(id);
    if (!holder) {
        rename_entry(taken.claim_, dir_ / claim_name(taken.vmid_));
        taken.claim_.clear();
        fsync_dir(dir_);
    }
    rename_entry(taken.file_, dir_ / id);
    taken.file_.clear();
    fsync_dir(dir_);
    entries_.erase(id);
    if (current && current->vmid != taken.vmid_) release(current->vmid, id);
}

// Every name checked: entries (with their claims) and claims; claims that
// count for nothing are removed.
Mapping MappingStore::Transaction::read_all() {
    Mapping mapping;
    std::vector<Vmid> claims;
    for (const auto& name : names()) {
        if (name.front() == claim_mark) {
            claims.push_back(parse_claim_name(name, dir_));
            continue;
        }
        try {
            validate_container_id(name);
        } catch (const Error& e) {
            throw damaged(dir_ / name, std::string("not a mapping entry (<id>) nor a claim (@<vmid>): ") + e.what());
        }
        mapping.emplace(name, *find(name));
    }
    for (Vmid vmid : claims) owner(vmid);
    return mapping;
}

MappingStore::Transaction MappingStore::begin() const { return Transaction(*this); }

Mapping MappingStore::read() const { return Transaction(*this).read_all(); }

}  // namespace lxcri
