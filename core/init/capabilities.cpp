#include "init/capabilities.hpp"

#include "oci/spec_names.hpp"

#include <lxcri/error.hpp>

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

namespace lxcri::init {
namespace {

std::string cap_name(int number) { return std::string(oci::known_capabilities()[static_cast<std::size_t>(number)]); }

struct CapFree {
    void operator()(cap_t caps) const { cap_free(caps); }
};

}  // namespace

int capability_number(std::string_view name) {
    // known_capabilities() is in kernel order.
    auto names = oci::known_capabilities();
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

CapabilityMasks capability_masks(const Capabilities& caps, int last_cap) {
    auto mask = [last_cap](const std::vector<std::string>& names, std::string_view set) {
        std::uint64_t bits = 0;
        for (const auto& name : names) {
            int number = capability_number(name);
            std::string field = "process.capabilities." + std::string(set);
            if (number < 0) throw Error(Errc::invalid_input, field + ": unknown capability " + name);
            if (number > last_cap)
                throw Error(Errc::failed, field + ": " + name + " is not known to the running kernel (its last is " +
                                              cap_name(last_cap) + ")");
            bits |= std::uint64_t{1} << number;
        }
        return bits;
    };
    CapabilityMasks masks;
    masks.bounding = mask(caps.bounding, "bounding");
    masks.effective = mask(caps.effective, "effective");
    masks.permitted = mask(caps.permitted, "permitted");
    masks.inheritable = mask(caps.inheritable, "inheritable");
    masks.ambient = mask(caps.ambient, "ambient");
    return masks;
}

int last_capability() {
    int bits = static_cast<int>(cap_max_bits());  // probes the kernel
    int known = static_cast<int>(oci::known_capabilities().size());
    return std::min(bits, known) - 1;
}

void check_bounding_set(const CapabilityMasks& masks, int last_cap) {
    const std::pair<std::uint64_t, const char*> sets[] = {
        {masks.effective, "effective"}, {masks.permitted, "permitted"},
        {masks.inheritable, "inheritable"}, {masks.ambient, "ambient"}};
    for (const auto& [mask, set] : sets) {
        for (int number = 0; number <= last_cap; ++number) {
            if (!((mask >> number) & 1) || ::prctl(PR_CAPBSET_READ, number, 0, 0, 0) == 1) continue;
            throw Error(Errc::failed, std::string("process.capabilities.") + set + ": " + cap_name(number) +
                                          " is not in the container's bounding set (the host's or its runtime's)");
        }
    }
}

void drop_bounding_set(std::uint64_t keep, int last_cap) {
    for (int number = 0; number <= last_cap; ++number) {
        // Only those still there: dropping needs CAP_SETPCAP even when absent.
        if ((keep >> number) & 1 || ::prctl(PR_CAPBSET_READ, number, 0, 0, 0) != 1) continue;
        if (cap_drop_bound(static_cast<cap_value_t>(number)) != 0)
            throw_errno("process.capabilities.bounding: drop " + cap_name(number), errno);
    }
}

void set_capabilities(const CapabilityMasks& masks, int last_cap) {
    std::unique_ptr<_cap_struct, CapFree> caps(cap_init());
    if (!caps) throw_errno("process.capabilities: cap_init", errno);
    for (int number = 0; number <= last_cap; ++number) {
        cap_value_t value = number;
        auto set = [&](std::uint64_t mask, cap_flag_t flag) {
            if ((mask >> number) & 1) cap_set_flag(caps.get(), flag, 1, &value, CAP_SET);
        };
        set(masks.effective, CAP_EFFECTIVE);
        set(masks.permitted, CAP_PERMITTED);
        set(masks.inheritable, CAP_INHERITABLE);
    }
    if (cap_set_proc(caps.get()) != 0)
        throw_errno("process.capabilities: set effective, permitted and inheritable", errno);
    // A kernel without ambient capabilities (before 4.3) is fine if none are asked for.
    if (cap_reset_ambient() != 0 && masks.ambient != 0)
        throw_errno("process.capabilities.ambient: clear", errno);
    // The kernel raises an ambient capability only when it is permitted and
    // inheritable. runc's default spec asks for ambient capabilities without
    // inheritable ones, and runc (like crun) skips those: so do we, or the
    // default config of every tool would fail to start.
    for (int number = 0; number <= last_cap; ++number) {
        bool raisable = ((masks.permitted & masks.inheritable) >> number) & 1;
        if (((masks.ambient >> number) & 1) && raisable &&
            cap_set_ambient(static_cast<cap_value_t>(number), CAP_SET) != 0)
            throw_errno("process.capabilities.ambient: raise " + cap_name(number), errno);
    }
}

}  // namespace lxcri::init
