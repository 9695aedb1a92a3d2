// <root>/<id>/state.json as StateStore reads it: whatever the file says, a
// state that is accepted names its own directory, a VMID Proxmox accepts
// and a valid backend, and survives a write and a read unchanged.

#include "fuzz_support.hpp"

#include "config/config.hpp"
#include "state/state_store.hpp"

#include <lxcri/types.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace lxcri;

namespace {

bool same(const ContainerState& a, const ContainerState& b) {
    return a.oci_version == b.oci_version && a.id == b.id && a.status == b.status && a.pid == b.pid &&
           a.bundle == b.bundle && a.annotations == b.annotations && a.vmid == b.vmid && a.backend == b.backend &&
           a.created == b.created;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_sandbox(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const StateStore store = [] {
        StateStore s(fuzz::scratch_dir() / "root");
        s.create_container_dir("c1");
        return s;
    }();
    fs::path file = fuzz::scratch_dir() / "root" / "c1" / "state.json";
    fuzz::write_input(file, data, size);
    std::optional<ContainerState> state;
    try {
        state = store.read("c1");
    } catch (const Error& e) {
        fuzz::check_message(e, fuzz::as_text(data, size));
        return 0;
    }
    if (!state) fuzz::fail("state.json exists but was read as absent");
    if (state->id != "c1") fuzz::fail("accepted a state.json naming '" + state->id + "'");
    if (state->vmid < vmid_hard_min || state->vmid > vmid_hard_max)
        fuzz::fail("accepted VMID " + std::to_string(state->vmid));
    if (!is_valid_plugin_name(state->backend)) fuzz::fail("accepted backend '" + state->backend + "'");
    if (!state->bundle.is_absolute()) fuzz::fail("accepted a relative bundle");
    if (state->pid < 0) fuzz::fail("accepted pid " + std::to_string(state->pid));

    store.write(*state);
    auto again = store.read("c1");
    if (!again || !same(*state, *again)) fuzz::fail("state.json does not survive a write and a read");
    return 0;
}
