// The `incremental` mapping: the lowest free VMID of the range, as Proxmox's
// own next-id does. Candidates are min, min+1, ...; the core skips the taken
// ones, so the first free VMID wins.

#include <lxcri/lxcri.hpp>

namespace {

class IncrementalMapping final : public lxcri::MappingStrategy {
public:
    explicit IncrementalMapping(const lxcri::PluginContext&) {}

    lxcri::Vmid candidate(std::string_view, lxcri::VmidRange range, std::uint64_t attempt) const override {
        return static_cast<lxcri::Vmid>(range.min + attempt % range.size());
    }
};

}  // namespace

LXCRI_MAPPING_PLUGIN(IncrementalMapping, "incremental", "1.0.0", "the lowest free VMID in the range")
