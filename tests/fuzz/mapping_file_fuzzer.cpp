// <state-dir>/mapping.json of 0.1 as MappingStore moves it into mapping/:
// an accepted mapping holds only valid container ids, VMIDs Proxmox
// accepts, each once, and valid backend names, and survives the move, a
// change and a read unchanged.

#include "fuzz_support.hpp"

#include "config/config.hpp"
#include "state/container_id.hpp"
#include "state/mapping_store.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;
using namespace lxcri;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_sandbox(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const MappingStore store(fuzz::scratch_dir() / "state");
    fs::remove_all(store.directory());
    fs::create_directories(fuzz::scratch_dir() / "state");
    fuzz::write_input(store.legacy_file(), data, size);
    Mapping mapping;
    try {
        mapping = store.read();
    } catch (const Error& e) {
        fuzz::check_message(e, fuzz::as_text(data, size));
        return 0;
    }
    std::set<Vmid> vmids;
    for (const auto& [id, entry] : mapping) {
        try {
            validate_container_id(id);
        } catch (const Error&) {
            fuzz::fail("accepted the id '" + id + "'");
        }
        if (entry.vmid < vmid_hard_min || entry.vmid > vmid_hard_max)
            fuzz::fail("accepted VMID " + std::to_string(entry.vmid));
        if (!vmids.insert(entry.vmid).second) fuzz::fail("accepted VMID " + std::to_string(entry.vmid) + " twice");
        if (!is_valid_plugin_name(entry.backend)) fuzz::fail("accepted backend '" + entry.backend + "'");
    }

    if (fs::exists(store.legacy_file())) fuzz::fail("mapping.json was read but not moved");

    // A transaction sees what was moved, and a change survives a read.
    const std::string added = "fuzz-added";
    if (vmids.count(vmid_hard_max) || mapping.count(added)) return 0;
    {
        auto transaction = store.begin();
        for (const auto& [id, entry] : mapping)
            if (transaction.find(id) != entry) fuzz::fail("a transaction read another entry for '" + id + "'");
        transaction.put(added, MappingEntry{vmid_hard_max, "dry-run", ""});
    }
    mapping[added] = MappingEntry{vmid_hard_max, "dry-run", ""};
    if (store.read() != mapping) fuzz::fail("the mapping does not survive a write and a read");
    return 0;
}
