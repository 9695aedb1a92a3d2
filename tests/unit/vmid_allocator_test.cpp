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

BOOST_AUTO_TEST_CASE(skips_vmids_mapped_to_others_and_in_use_on_the_host) {
    lxcri::Mapping mapping{{"other", {100, "dry-run", ""}}};
    Sequential strategy;
    auto vmid = lxcri::allocate_vmid(mapping, "c1", "dry-run", strategy, "seq", small, {101, 102});
    BOOST_CHECK_EQUAL(vmid, 103u);
    BOOST_CHECK_EQUAL(mapping.at("c1").vmid, 103u);
    BOOST_CHECK_EQUAL(mapping.at("c1").backend, "dry-run");
    BOOST_CHECK(!mapping.at("c1").created.empty());
}

BOOST_AUTO_TEST_CASE(an_id_keeps_its_vmid_while_it_is_free) {
    lxcri::Mapping mapping{{"c1", {104, "dry-run", "t"}}};
    Sequential strategy;
    BOOST_CHECK_EQUAL(lxcri::allocate_vmid(mapping, "c1", "dry-run", strategy, "seq", small, {}), 104u);
    // Taken on the host meanwhile: a new one is chosen and recorded.
    BOOST_CHECK_EQUAL(lxcri::allocate_vmid(mapping, "c1", "dry-run", strategy, "seq", small, {104}), 100u);
    BOOST_CHECK_EQUAL(mapping.at("c1").vmid, 100u);
}

BOOST_AUTO_TEST_CASE(an_exhausted_range_is_reported_and_changes_nothing) {
    lxcri::Mapping mapping{{"a", {100, "x", ""}}, {"b", {101, "x", ""}}};
    lxcri::Mapping before = mapping;
    Sequential strategy;
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid(mapping, "c1", "x", strategy, "seq", small, {102, 103, 104}),
                          lxcri::Error, [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::exhausted); });
    BOOST_CHECK(mapping == before);
}

BOOST_AUTO_TEST_CASE(a_strategy_that_breaks_its_contract_is_caught) {
    lxcri::Mapping mapping;
    Broken strategy;
    // First candidate free: fine.
    BOOST_CHECK_EQUAL(lxcri::allocate_vmid(mapping, "c1", "x", strategy, "broken", small, {}), 100u);
    // First taken: the repeat is detected instead of looping forever.
    BOOST_CHECK_EXCEPTION(lxcri::allocate_vmid(mapping, "c2", "x", strategy, "broken", small, {}), lxcri::Error,
                          [](const lxcri::Error& e) { return has_code(e, lxcri::Errc::plugin); });
}

BOOST_AUTO_TEST_CASE(a_huge_range_with_few_taken_is_cheap) {
    lxcri::Mapping mapping;
    Sequential strategy;
    std::set<lxcri::Vmid> in_use;
    for (lxcri::Vmid v = 100; v < 1100; ++v) in_use.insert(v);
    auto vmid = lxcri::allocate_vmid(mapping, "c", "x", strategy, "seq", {100, 999999999}, in_use);
    BOOST_CHECK_EQUAL(vmid, 1100u);
}
