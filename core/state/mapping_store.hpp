#pragma once

#include "util/fs.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace lxcri {

struct MappingEntry {
    Vmid vmid = 0;
    std::string backend;
    std::string created;  // RFC 3339

    bool operator==(const MappingEntry&) const = default;
};

using Mapping = std::map<std::string, MappingEntry>;  // container id -> entry

// The persistent id -> VMID mapping, <state-dir>/mapping/. It survives
// reboots, unlike <root>. One file per container, named <id>@<vmid> and
// holding {"backend": ..., "created": ...}: the names alone tell every id
// and VMID (one readdir), so a create reads and writes its own entry only,
// whatever the number of containers. Every change runs inside a
// Transaction, which holds an exclusive lock on <state-dir>/mapping.lock,
// and is a single rename or unlink, made durable (fsync of the file and the
// directory) before it returns: a process killed at any point leaves every
// id with at most one entry and every VMID with at most one id.
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
        std::filesystem::path file_;  // a link to the old entry; empty when the id had none
        std::string name_;            // the old entry's name
    };

    class Transaction {
    public:
        // The id's entry (its file is read and checked), if it has one.
        std::optional<MappingEntry> find(const std::string& id) const;
        // Every VMID of the mapping and the id it belongs to.
        const std::map<Vmid, std::string>& vmids() const { return vmids_; }
        // Makes `entry` the id's entry. Error(failed) when its VMID is
        // another id's.
        void put(const std::string& id, const MappingEntry& entry);
        void erase(const std::string& id);
        // Fails as a change would fail on a read-only state dir, changing
        // nothing.
        void check_writable() const;
        // Puts the id's current entry (or its absence) aside for restore().
        Saved save(const std::string& id) const;
        // The id's entry as it was at save(); none when its old VMID has
        // been given to another id since. Consumes `saved`.
        void restore(const std::string& id, Saved& saved);

    private:
        friend class MappingStore;
        explicit Transaction(const MappingStore& store);
        std::filesystem::path entry_file(const std::string& id) const;
        void scan();
        void import_legacy(const Mapping& legacy);
        void forget(const std::string& id);
        void write_entry(const std::string& id, const MappingEntry& entry, Durability durability);

        // Copies: a transaction may outlive the store it came from.
        std::filesystem::path state_dir_, dir_, legacy_file_;
        FileLock lock_;
        std::unordered_map<std::string, Vmid> ids_;  // from the file names
        std::map<Vmid, std::string> vmids_;
    };

    Transaction begin() const;

    // Every entry, each file read and checked (under the lock: tests,
    // fuzzing and diagnostics; commands use a Transaction).
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
