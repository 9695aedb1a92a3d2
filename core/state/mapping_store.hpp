#pragma once

#include "util/fs.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

struct MappingEntry {
    Vmid vmid = 0;
    std::string backend;
    std::string created;  // RFC 3339

    bool operator==(const MappingEntry&) const = default;
};

using Mapping = std::map<std::string, MappingEntry>;  // container id -> entry

// The persistent id -> VMID mapping, <state-dir>/mapping/. It survives
// reboots, unlike <root>. Each container has two names there:
//
//   <id>      its entry, a file {"vmid": N, "backend": "...", "created": "..."}
//   @<vmid>   the VMID's claim, a symbolic link to "<id>"
//
// so that the entry of an id and the owner of a VMID are each one lookup,
// whatever the number of containers: a create with the hash mapping reads
// and writes its own names only. The entry is the truth; a claim counts
// while the entry it names gives that VMID.
//
// Every change runs inside a Transaction, which holds an exclusive lock on
// <state-dir>/mapping.lock. A VMID is claimed (made durable) before an entry
// names it, and an entry is removed before its claim: a process killed at
// any point leaves every id with at most one entry, every VMID with at most
// one id, and at worst a claim whose entry does not give it that VMID, which
// the next lookup of that VMID removes.
//
// A mapping.json of version 0.1 (one file for all entries) is moved into
// mapping/ by the first transaction, and removed once every entry is there.
class MappingStore {
public:
    explicit MappingStore(std::filesystem::path state_dir);

    // An entry put aside by Transaction::save: restore() brings it back
    // with renames only, so an undo needs no disk space. Destroyed without
    // a restore, it is dropped.
    class Saved {
    public:
        Saved() = default;
        Saved(Saved&& other) noexcept;
        Saved& operator=(Saved&& other) noexcept;
        ~Saved();

    private:
        friend class MappingStore;
        void drop() noexcept;  // removes the links
        std::filesystem::path file_;   // a link to the old entry; empty when the id had none
        std::filesystem::path claim_;  // a link to the old entry's claim
        Vmid vmid_ = 0;                // the old entry's VMID
    };

    class Transaction {
    public:
        // The id's entry (its file is read and checked, and its claim), if
        // it has one.
        std::optional<MappingEntry> find(const std::string& id);
        // The id the mapping gives `vmid` to, if any (one lookup; a claim
        // left by a killed process is removed on the way).
        std::optional<std::string> owner(Vmid vmid);
        // Every VMID the mapping gives to an id, sorted (one readdir: for
        // an allocation whose first candidates are all taken).
        std::vector<Vmid> vmids();
        // Makes `entry` the id's entry. Error(failed) when its VMID is
        // another id's.
        void put(const std::string& id, const MappingEntry& entry);
        void erase(const std::string& id);
        // Fails as a change would fail on a read-only state dir, changing
        // nothing.
        void check_writable() const;
        // Puts the id's current entry (or its absence) aside for restore().
        Saved save(const std::string& id);
        // The id's entry as it was at save(); none when its old VMID has
        // been given to another id since. Consumes `saved`.
        void restore(const std::string& id, Saved& saved);

    private:
        friend class MappingStore;
        explicit Transaction(const MappingStore& store);
        // The id's entry as its file says (cached), without its claim.
        const std::optional<MappingEntry>& entry(const std::string& id);
        void claim(Vmid vmid, const std::string& id, Durability durability);
        void release(Vmid vmid, const std::string& id);
        void write_entry(const std::string& id, const MappingEntry& wanted, Durability durability);
        void import_legacy(const Mapping& legacy);
        // Every name of mapping/ but the dot files (a killed process's
        // temporary files and saved entries are removed on the way).
        std::vector<std::string> names();
        Mapping read_all();

        // Copies: a transaction may outlive the store it came from.
        std::filesystem::path state_dir_, dir_, legacy_file_;
        FileLock lock_;
        std::map<std::string, std::optional<MappingEntry>> entries_;  // read or written in this transaction
    };

    Transaction begin() const;

    // Every entry, each file and claim read and checked, and every name
    // (under the lock: tests, fuzzing and diagnostics; commands use a
    // Transaction). Removes what killed processes left.
    Mapping read() const;

    const std::filesystem::path& directory() const { return dir_; }
    // The 0.1 format's file, read once and then removed.
    const std::filesystem::path& legacy_file() const { return legacy_file_; }

private:
    std::filesystem::path state_dir_;
    std::filesystem::path dir_;
    std::filesystem::path legacy_file_;
};

}  // namespace lxcri
