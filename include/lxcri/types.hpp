#pragma once

#include <cstdint>
#include <string_view>

namespace lxcri {

// A Proxmox VMID. Proxmox accepts 100..999999999.
using Vmid = std::uint32_t;

inline constexpr Vmid vmid_hard_min = 100;
inline constexpr Vmid vmid_hard_max = 999999999;

// An inclusive range of VMIDs, always inside the hard limits.
struct VmidRange {
    Vmid min = 100;
    Vmid max = 999999;  // Proxmox's datacenter next-id default (upper 1000000, exclusive)

    std::uint64_t size() const { return std::uint64_t(max) - min + 1; }
    bool contains(Vmid vmid) const { return vmid >= min && vmid <= max; }
};

// OCI container status (runtime-spec state.status), plus `paused` as runc has.
enum class Status { creating, created, running, paused, stopped };

constexpr std::string_view to_string(Status status) {
    switch (status) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::paused: return "paused";
    case Status::stopped: return "stopped";
    }
    return "unknown";
}

}  // namespace lxcri
