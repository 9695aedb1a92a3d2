#define BOOST_TEST_MODULE mapping_plugins
#include <boost/test/unit_test.hpp>

#include "plugin/plugin_loader.hpp"
#include "runtime/vmid_allocator.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <set>

// The real hash and incremental plugins, loaded as the runtime loads them.
namespace {

lxcri::Plugin<lxcri::MappingStrategy> load(const std::string& name) {
    return lxcri::PluginLoader({LXCRI_PLUGIN_DIR}).load_mapping(name, {});
}

// Every strategy must visit each VMID of a range exactly once.
void check_permutation(const lxcri::MappingStrategy& strategy, const std::string& id, lxcri::VmidRange range) {
    std::set<lxcri::Vmid> seen;
    for (std::uint64_t k = 0; k < range.size(); ++k) {
        auto v = strategy.candidate(id, range, k);
        BOOST_REQUIRE(range.contains(v));
        BOOST_REQUIRE(seen.insert(v).second);
    }
    BOOST_CHECK_EQUAL(seen.size(), range.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(hash_is_deterministic_and_documented) {
    auto hash = load("hash");
    lxcri::VmidRange range;  // 100..999999
    // FNV-1a 64 of "c1" is 0x08a27f07b54a6859; mod 999900, plus 100.
    std::uint64_t h = 0x08a27f07b54a6859ull;
    BOOST_CHECK_EQUAL(hash->candidate("c1", range, 0), lxcri::Vmid(100 + h % 999900));
    // Same answer in another load (another process would be the same code).
    BOOST_CHECK_EQUAL(load("hash")->candidate("c1", range, 0), hash->candidate("c1", range, 0));
    BOOST_CHECK_NE(hash->candidate("c1", range, 0), hash->candidate("c2", range, 0));
    // Probing is linear and wraps.
    lxcri::VmidRange tiny{100, 102};
    auto home = hash->candidate("web", tiny, 0);
    BOOST_CHECK_EQUAL(hash->candidate("web", tiny, 1), home == 102 ? 100u : home + 1);
    check_permutation(*hash, "web", {100, 356});
    check_permutation(*hash, "db", {999999000, 999999999});
}

BOOST_AUTO_TEST_CASE(incremental_takes_the_lowest_free) {
    auto incremental = load("incremental");
    check_permutation(*incremental, "x", {500, 700});
    auto entry = lxcri::allocate_vmid({"b", "dry-run", std::nullopt}, {{500, "a"}}, *incremental, "incremental",
                                      {500, 700}, {501, 503});
    BOOST_CHECK_EQUAL(entry.vmid, 502u);
}

BOOST_AUTO_TEST_CASE(hash_probes_past_collisions_and_exhausts_cleanly) {
    auto hash = load("hash");
    lxcri::VmidRange range{100, 109};
    std::map<lxcri::Vmid, std::string> mapped;
    for (int i = 0; i < 10; ++i) {
        std::string id = "c" + std::to_string(i);
        mapped[lxcri::allocate_vmid({id, "dry-run", std::nullopt}, mapped, *hash, "hash", range, {}).vmid] = id;
    }
    BOOST_CHECK_EQUAL(mapped.size(), 10u);
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid({"c10", "dry-run", std::nullopt}, mapped, *hash, "hash", range, {}),
                          lxcri::Error, [](const lxcri::Error& e) { return e.code() == lxcri::Errc::exhausted; });
}
