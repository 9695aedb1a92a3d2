#pragma once

#include "state/mapping_store.hpp"

#include <lxcri/backend.hpp>
#include <lxcri/mapping.hpp>

#include <string>

namespace lxcri {

// Picks the VMID for `id` inside a mapping transaction (so under the mapping
// lock): the id's existing entry when its VMID is still free, else the
// strategy's first candidate that is neither mapped to another id nor in
// `in_use` (the backend's live inventory). Records it in the transaction.
// Error(exhausted) when the range has no free VMID.
Vmid allocate_vmid(Mapping& mapping, const std::string& id, const std::string& backend,
                   const MappingStrategy& strategy, const std::string& strategy_name, VmidRange range,
                   const std::set<Vmid>& in_use);

}  // namespace lxcri
