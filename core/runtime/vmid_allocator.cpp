#include "runtime/vmid_allocator.hpp"

#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace lxcri {

namespace {

// The id's current entry, kept: its VMID is still free.
MappingEntry keep(const VmidRequest& request) {
    log::debug(request.id + ": reusing VMID " + std::to_string(request.current->vmid) + " from the mapping");
    MappingEntry kept = *request.current;
    kept.backend = request.backend;
    return kept;
}

void warn_moved(const VmidRequest& request) {
    log::warning(request.id + ": VMID " + std::to_string(request.current->vmid) +
                 " from the mapping is in use on the host; allocating a new one");
}

// The search over the whole inventory: `taken` holds every VMID that is
// not free for the id.
MappingEntry search(const VmidRequest& request, std::vector<Vmid> taken, const MappingStrategy& strategy,
                    const std::string& strategy_name, VmidRange range) {
    const std::string& id = request.id;
    // Sorted, for binary search: thousands of VMIDs are taken at scale.
    std::sort(taken.begin(), taken.end());
    taken.erase(std::unique(taken.begin(), taken.end()), taken.end());
    auto is_taken = [&](Vmid vmid) { return std::binary_search(taken.begin(), taken.end(), vmid); };

    if (request.current) {
        if (!is_taken(request.current->vmid)) return keep(request);
        warn_moved(request);
    }

    // Candidates are distinct (the strategy's contract), so once more
    // candidates were tried than VMIDs are taken in the range, one was free.
    std::uint64_t taken_in_range = 0;
    for (Vmid vmid : taken) taken_in_range += range.contains(vmid);
    std::uint64_t attempts = std::min<std::uint64_t>(range.size(), taken_in_range + 1);
    std::unordered_set<Vmid> seen;
    seen.reserve(attempts);
    for (std::uint64_t attempt = 0; attempt < attempts; ++attempt) {
        Vmid candidate = strategy.candidate(id, range, attempt);
        if (!range.contains(candidate) || !seen.insert(candidate).second)
            throw Error(Errc::plugin, "mapping " + strategy_name + " broke its contract: candidate " +
                                          std::to_string(attempt) + " is " + std::to_string(candidate) +
                                          (range.contains(candidate) ? ", proposed twice" : ", outside the range"));
        if (is_taken(candidate)) continue;
        return MappingEntry{candidate, request.backend, rfc3339_now()};
    }
    throw Error(Errc::exhausted, "no free VMID in the range " + std::to_string(range.min) + ".." +
                                     std::to_string(range.max) + " (" + std::to_string(taken_in_range) +
                                     " in use): widen vmid-min/vmid-max or delete containers");
}

}  // namespace

MappingEntry allocate_vmid(const VmidRequest& request, const std::map<Vmid, std::string>& mapped,
                           const MappingStrategy& strategy, const std::string& strategy_name, VmidRange range,
                           const std::set<Vmid>& in_use) {
    std::vector<Vmid> taken(in_use.begin(), in_use.end());
    for (const auto& [vmid, other] : mapped)
        if (other != request.id) taken.push_back(vmid);
    return search(request, std::move(taken), strategy, strategy_name, range);
}

MappingEntry allocate_vmid(const VmidRequest& request, VmidInventory& inventory, const MappingStrategy& strategy,
                           const std::string& strategy_name, VmidRange range) {
    const std::string& id = request.id;
    auto is_taken = [&](Vmid vmid) {
        auto owner = inventory.mapped_to(vmid);
        return (owner && *owner != id) || inventory.in_use(vmid);
    };
    if (request.current && !is_taken(request.current->vmid)) return keep(request);
    // The first candidates, a lookup each; the contract is checked as in
    // the full search.
    constexpr std::uint64_t direct_attempts = 8;
    std::unordered_set<Vmid> seen;
    for (std::uint64_t attempt = 0; attempt < std::min<std::uint64_t>(direct_attempts, range.size()); ++attempt) {
        Vmid candidate = strategy.candidate(id, range, attempt);
        if (!range.contains(candidate) || !seen.insert(candidate).second) break;  // reported by the full search
        if (is_taken(candidate)) continue;
        if (request.current) warn_moved(request);
        return MappingEntry{candidate, request.backend, rfc3339_now()};
    }
    // All taken (the incremental mapping, or collisions): the whole
    // inventory, read once, and the search from the first candidate. The
    // id's own VMID, if it has one, was found taken above.
    std::vector<Vmid> taken = inventory.mapped();
    std::set<Vmid> in_use = inventory.all_in_use();
    taken.insert(taken.end(), in_use.begin(), in_use.end());
    return search(request, std::move(taken), strategy, strategy_name, range);
}

}  // namespace lxcri
