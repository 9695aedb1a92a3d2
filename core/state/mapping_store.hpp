#pragma once

#include "util/fs.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace lxcri {

struct MappingEntry {
    Vmid vmid = 0;
    std::string backend;
    std::string created;  // RFC 3339

    bool operator==(const MappingEntry&) const = default;
};

using Mapping = std::map<std::string, MappingEntry>;  // container id -> entry

// The persistent id -> VMID mapping, <state-dir>/mapping.json. It survives
// reboots, unlike <root>. Every read-modify-write runs inside a Transaction,
// which holds an exclusive lock on <state-dir>/mapping.lock.
class MappingStore {
public:
    explicit MappingStore(std::filesystem::path state_dir);

    class Transaction {
    public:
        Mapping& entries() { return entries_; }
        // Writes the entries to a temporary file, so that a full disk or a
        // read-only state dir shows before anything else is changed; a
        // commit() of the same entries then only renames it.
        void prepare();
        // Writes the entries back atomically (no-op when unchanged).
        void commit();
        // Disk space for a later write of about these entries (a temporary
        // file as large): freed just before that write, it lets an undo
        // write the mapping on a disk that filled up meanwhile.
        std::shared_ptr<PendingWrite> reserve() const;

    private:
        friend class MappingStore;
        Transaction(const MappingStore& store);
        const MappingStore& store_;
        FileLock lock_;
        Mapping entries_;
        Mapping original_;
        std::optional<PendingWrite> pending_;
        Mapping prepared_;  // what pending_ holds
    };

    Transaction begin() const;

    // A snapshot without the lock (writes are atomic, so it is consistent).
    Mapping read() const;

    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path state_dir_;
    std::filesystem::path file_;
};

}  // namespace lxcri
