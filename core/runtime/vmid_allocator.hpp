#pragma once

#include "state/mapping_store.hpp"

#include <lxcri/backend.hpp>
#include <lxcri/mapping.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lxcri {

// The id's entry in the mapping, with what allocate_vmid takes from it.
struct VmidRequest {
    std::string id;
    std::string backend;
    std::optional<MappingEntry> current;  // the id's entry, if it has one
};

// Picks the VMID for an id inside a mapping transaction (so under the
// mapping lock): the id's current entry when its VMID is still free, else
// the strategy's first candidate that is neither `mapped` (VMID -> id) to
// another id nor in `in_use` (the backend's live inventory). Returns the
// id's new entry (the current one, its backend updated, when it is kept).
// Error(exhausted) when the range has no free VMID.
MappingEntry allocate_vmid(const VmidRequest& request, const std::map<Vmid, std::string>& mapped,
                           const MappingStrategy& strategy, const std::string& strategy_name, VmidRange range,
                           const std::set<Vmid>& in_use);

// What allocate_vmid asks of the mapping and the backend: one VMID at a
// time, or the whole inventory.
class VmidInventory {
public:
    virtual ~VmidInventory() = default;
    virtual std::optional<std::string> mapped_to(Vmid vmid) = 0;  // the id the mapping gives it to
    virtual bool in_use(Vmid vmid) = 0;                           // by the backend's live inventory
    virtual std::vector<Vmid> mapped() = 0;                       // every VMID the mapping gives to an id
    virtual std::set<Vmid> all_in_use() = 0;
};

// The same choice, asking about the strategy's first candidates one by one
// (a lookup each: with the hash mapping the first is free unless it
// collides, so a create does not grow with the number of containers); only
// when those are all taken is the whole inventory read.
MappingEntry allocate_vmid(const VmidRequest& request, VmidInventory& inventory, const MappingStrategy& strategy,
                           const std::string& strategy_name, VmidRange range);

// The inventory of a create: the mapping under its transaction, the
// backend's, and VMIDs known to be taken besides (one the backend refused).
class CreateInventory final : public VmidInventory {
public:
    CreateInventory(MappingStore::Transaction& mapping, Backend& backend, std::set<Vmid> also_taken = {})
        : mapping_(mapping), backend_(backend), also_taken_(std::move(also_taken)) {}
    std::optional<std::string> mapped_to(Vmid vmid) override { return mapping_.owner(vmid); }
    bool in_use(Vmid vmid) override { return also_taken_.count(vmid) || backend_.vmid_in_use(vmid); }
    std::vector<Vmid> mapped() override { return mapping_.vmids(); }
    std::set<Vmid> all_in_use() override {
        std::set<Vmid> all = backend_.vmids_in_use();
        all.insert(also_taken_.begin(), also_taken_.end());
        return all;
    }

private:
    MappingStore::Transaction& mapping_;
    Backend& backend_;
    std::set<Vmid> also_taken_;
};

}  // namespace lxcri
