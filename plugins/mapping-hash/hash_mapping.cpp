// The `hash` mapping: the VMID is a stable function of the container id, so
// the same id gets the same VMID on every host and after every restart.
//
//   h      = FNV-1a 64-bit of the id's bytes
//   vmid_k = min + (h mod size + k) mod size,   size = max - min + 1
//
// k = 0 is the id's home VMID; k = 1, 2, ... probe linearly (wrapping) when
// the core finds the home VMID taken. FNV-1a is specified byte by byte, so
// the result does not depend on the platform or the compiler.

#include <lxcri/lxcri.hpp>

namespace {

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

class HashMapping final : public lxcri::MappingStrategy {
public:
    explicit HashMapping(const lxcri::PluginContext&) {}

    lxcri::Vmid candidate(std::string_view id, lxcri::VmidRange range, std::uint64_t attempt) const override {
        std::uint64_t size = range.size();
        std::uint64_t home = fnv1a64(id) % size;
        return static_cast<lxcri::Vmid>(range.min + (home + attempt % size) % size);
    }
};

}  // namespace

LXCRI_MAPPING_PLUGIN(HashMapping, "hash", "1.0.0",
                     "VMID = FNV-1a hash of the container id in the range, linear probing on collision")
