#pragma once

#include <lxcri/plugin.hpp>
#include <lxcri/types.hpp>

#include <boost/config.hpp>

#include <cstdint>
#include <string_view>

namespace lxcri {

// Turns an OCI container id into VMID candidates. The core asks for
// candidate 0, 1, 2, ... and takes the first that is free: not in
// the mapping (<state-dir>/mapping/) and not in the backend's live inventory. The strategy only
// proposes; collision detection, locking and persistence are the core's.
//
// Contract:
// - pure: the answer depends only on (id, range, attempt) and the plugin's
//   options, so the same id gets the same VMID in every process;
// - for attempt in [0, range.size()) the answers are distinct and inside
//   `range`: trying them all visits every VMID of the range exactly once
//   (the core relies on this to report an exhausted range);
// - may be called from several processes at once; throws lxcri::Error.
class BOOST_SYMBOL_VISIBLE MappingStrategy {
public:
    virtual ~MappingStrategy() = default;
    virtual Vmid candidate(std::string_view id, VmidRange range, std::uint64_t attempt) const = 0;
};

}  // namespace lxcri
