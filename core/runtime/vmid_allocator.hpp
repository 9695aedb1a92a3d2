#pragma once

#include "state/mapping_store.hpp"

#include <lxcri/backend.hpp>
#include <lxcri/mapping.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>

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

}  // namespace lxcri
