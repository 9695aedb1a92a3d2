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
