#pragma once

#include "util/fs.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <map>
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
        // Writes the entries back atomically (no-op when unchanged).
        void commit();

    private:
        friend class MappingStore;
        Transaction(const MappingStore& store);
        const MappingStore& store_;
        FileLock lock_;
        Mapping entries_;
        Mapping original_;
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
