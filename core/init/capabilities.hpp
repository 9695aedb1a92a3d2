#pragma once

// process.capabilities: capability names to kernel numbers, and the five
// sets applied as runc does (bounding before the uid change, the others after).

#include <lxcri/container_spec.hpp>

#include <cstdint>
#include <string_view>

namespace lxcri::init {

// The kernel's number for "CAP_*" (CAP_CHOWN is 0), or -1 when unknown.
int capability_number(std::string_view name);

// One bit per capability number.
struct CapabilityMasks {
    std::uint64_t bounding = 0;
    std::uint64_t effective = 0;
    std::uint64_t permitted = 0;
    std::uint64_t inheritable = 0;
    std::uint64_t ambient = 0;
};

// The spec's sets as masks. A capability above `last_cap` (the running
// kernel's highest) cannot be applied: Error naming the set.
CapabilityMasks capability_masks(const Capabilities& caps, int last_cap);

// The highest capability number the running kernel knows.
int last_capability();

// Fails, naming the set and the capability, when effective, permitted,
// inheritable or ambient asks for one that the calling process's bounding
// set lacks: no process of the container could get it, and runc refuses
// such a config at create.
void check_bounding_set(const CapabilityMasks& masks, int last_cap);

// Drops from the bounding set every capability not in `keep` (needs
// CAP_SETPCAP, so it comes before the uid change).
void drop_bounding_set(std::uint64_t keep, int last_cap);

// Sets effective, permitted and inheritable exactly, then the ambient set.
void set_capabilities(const CapabilityMasks& masks, int last_cap);

}  // namespace lxcri::init
