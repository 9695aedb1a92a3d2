#define BOOST_TEST_MODULE vmid_allocator
#include <boost/test/unit_test.hpp>

#include "runtime/vmid_allocator.hpp"

#include <lxcri/error.hpp>

// The allocator is core logic; the strategies here are minimal test
// strategies that state the contract. The real plugins are tested loaded,
// in tests/plugins/.
namespace {

class Sequential final : public lxcri::MappingStrategy {
public:
    lxcri::Vmid candidate(std::string_view, lxcri::VmidRange range, std::uint64_t attempt) const override {
        return static_cast<lxcri::Vmid>(range.min + attempt % range.size());
    }
};

class Broken final : public lxcri::MappingStrategy {
public:
    lxcri::Vmid candidate(std::string_view, lxcri::VmidRange range, std::uint64_t) const override { return range.min; }
};

const lxcri::VmidRange small{100, 104};

bool has_code(const lxcri::Error& e, lxcri::Errc code) { return e.code() == code; }

}  // namespace

using Mapped = std::map<lxcri::Vmid, std::string>;

BOOST_AUTO_TEST_CASE(skips_vmids_mapped_to_others_and_in_use_on_the_host) {
    Sequential strategy;
    auto entry = lxcri::allocate_vmid({"c1", "dry-run", std::nullopt}, Mapped{{100, "other"}}, strategy, "seq", small,
                                      {101, 102});
    BOOST_CHECK_EQUAL(entry.vmid, 103u);
    BOOST_CHECK_EQUAL(entry.backend, "dry-run");
    BOOST_CHECK(!entry.created.empty());
}

BOOST_AUTO_TEST_CASE(an_id_keeps_its_vmid_while_it_is_free) {
    Sequential strategy;
    lxcri::MappingEntry current{104, "lxc", "t"};
    Mapped mapped{{104, "c1"}};
    auto kept = lxcri::allocate_vmid({"c1", "dry-run", current}, mapped, strategy, "seq", small, {});
    BOOST_CHECK_EQUAL(kept.vmid, 104u);
    BOOST_CHECK_EQUAL(kept.backend, "dry-run");  // the backend of this create
    BOOST_CHECK_EQUAL(kept.created, "t");
    // Taken on the host meanwhile: a new one is chosen.
    auto moved = lxcri::allocate_vmid({"c1", "dry-run", current}, mapped, strategy, "seq", small, {104});
    BOOST_CHECK_EQUAL(moved.vmid, 100u);
}

BOOST_AUTO_TEST_CASE(an_exhausted_range_is_reported) {
    Sequential strategy;
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid({"c1", "x", std::nullopt}, Mapped{{100, "a"}, {101, "b"}}, strategy,
                                               "seq", small, {102, 103, 104}),
                          lxcri::Error, [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::exhausted); });
}

BOOST_AUTO_TEST_CASE(a_strategy_that_breaks_its_contract_is_caught) {
    Broken strategy;
    // First candidate free: fine.
    BOOST_CHECK_EQUAL(lxcri::allocate_vmid({"c1", "x", std::nullopt}, {}, strategy, "broken", small, {}).vmid, 100u);
    // First taken: the repeat is detected instead of looping forever.
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid({"c2", "x", std::nullopt}, Mapped{{100, "c1"}}, strategy, "broken",
                                               small, {}),
                          lxcri::Error, [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::plugin); });
}

BOOST_AUTO_TEST_CASE(a_huge_range_with_few_taken_is_cheap) {
    Sequential strategy;
    std::set<lxcri::Vmid> in_use;
    for (lxcri::Vmid v = 100; v < 1100; ++v) in_use.insert(v);
    auto entry = lxcri::allocate_vmid({"c", "x", std::nullopt}, {}, strategy, "seq", {100, 999999999}, in_use);
    BOOST_CHECK_EQUAL(entry.vmid, 1100u);
}

namespace {

// An inventory that counts what is asked of it.
class CountingInventory final : public lxcri::VmidInventory {
public:
    Mapped mapping;
    std::set<lxcri::Vmid> host;
    int lookups = 0, listings = 0;

    std::optional<std::string> mapped_to(lxcri::Vmid vmid) override {
        ++lookups;
        auto it = mapping.find(vmid);
        return it == mapping.end() ? std::nullopt : std::optional(it->second);
    }
    bool in_use(lxcri::Vmid vmid) override { return host.count(vmid) != 0; }
    std::vector<lxcri::Vmid> mapped() override {
        ++listings;
        std::vector<lxcri::Vmid> all;
        for (const auto& [vmid, id] : mapping) all.push_back(vmid);
        return all;
    }
    std::set<lxcri::Vmid> all_in_use() override { return host; }
};

}  // namespace

// The first candidates are looked up one by one; the whole inventory is
// read only when they are all taken, and the answer is the same as from
// the whole inventory.
BOOST_AUTO_TEST_CASE(the_first_candidates_are_looked_up_one_by_one) {
    Sequential strategy;
    const lxcri::VmidRange range{100, 999};
    for (lxcri::Vmid taken : {0u, 3u, 8u, 20u}) {
        BOOST_TEST_CONTEXT(taken << " taken") {
            CountingInventory inventory;
            for (lxcri::Vmid v = 100; v < 100 + taken; ++v) {
                if (v % 2)
                    inventory.host.insert(v);
                else
                    inventory.mapping[v] = "o" + std::to_string(v);
            }
            auto entry = lxcri::allocate_vmid({"c", "x", std::nullopt}, inventory, strategy, "seq", range);
            BOOST_CHECK_EQUAL(entry.vmid, 100 + taken);
            BOOST_CHECK_EQUAL(inventory.listings, taken < 8 ? 0 : 1);
            auto whole = lxcri::allocate_vmid({"c", "x", std::nullopt}, inventory.mapping, strategy, "seq", range,
                                              inventory.host);
            BOOST_CHECK_EQUAL(whole.vmid, entry.vmid);
        }
    }
    // The id's own VMID, free: kept after one lookup.
    CountingInventory inventory;
    inventory.mapping[500] = "c";
    auto kept = lxcri::allocate_vmid({"c", "x", lxcri::MappingEntry{500, "lxc", "t"}}, inventory, strategy, "seq", range);
    BOOST_CHECK_EQUAL(kept.vmid, 500u);
    BOOST_CHECK_EQUAL(inventory.lookups, 1);
    // Taken on the host: a new one, as from the whole inventory.
    inventory.host.insert(500);
    BOOST_CHECK_EQUAL(
        lxcri::allocate_vmid({"c", "x", lxcri::MappingEntry{500, "lxc", "t"}}, inventory, strategy, "seq", range).vmid,
        100u);
    // Exhaustion and a broken contract are reported as before.
    CountingInventory full;
    for (lxcri::Vmid v = 100; v <= 104; ++v) full.host.insert(v);
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid({"c", "x", std::nullopt}, full, strategy, "seq", small), lxcri::Error,
                          [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::exhausted); });
    Broken broken;
    CountingInventory one;
    one.mapping[100] = "other";
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid({"c", "x", std::nullopt}, one, broken, "broken", small), lxcri::Error,
                          [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::plugin); });
}
