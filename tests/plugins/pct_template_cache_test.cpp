#define BOOST_TEST_MODULE pct_template_cache
#include <boost/test/unit_test.hpp>

#include "pct_plan.hpp"
#include "support/test_support.hpp"
#include "template_cache.hpp"

#include <filesystem>
#include <string>

// The pct backend's template cache (plugins/backend-pct/template_cache.cpp),
// compiled into this test: which claims keep an archive. No root, no CT:
// acquire packs a small directory with tar.
namespace fs = std::filesystem;
using lxcri::test::node_name;
using lxcri::test::read_text;
using lxcri::test::TempDir;

namespace {

struct Cache {
    TempDir tmp;
    fs::path dir = tmp / "cache";
    fs::path rootfs = tmp / "rootfs";
    std::string digest = std::string(64, 'd');
    lxcri::pct::TemplateCache cache{dir};

    Cache() {
        fs::create_directories(rootfs / "bin");
        lxcri::test::write_text(rootfs / "bin" / "hello", "hello\n");
    }
    fs::path archive() const { return dir / lxcri::pct_template_name(digest); }
    fs::path users() const { return dir / (".proxmox-lxcri-" + digest + ".users"); }
    void acquire(lxcri::Vmid vmid, const std::string& id) { cache.acquire(rootfs, digest, {}, vmid, id); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_last_release_removes_the_archive) {
    Cache c;
    c.acquire(1010, "a");
    c.acquire(1011, "b");
    BOOST_TEST(read_text(c.users()) == "1010 a " + node_name() + "\n1011 b " + node_name() + "\n");
    c.cache.release(1010, "a");
    BOOST_TEST(fs::exists(c.archive()));
    c.cache.release(1011, "b");
    BOOST_TEST(!fs::exists(c.archive()));
    BOOST_TEST(!fs::exists(c.users()));
}

// Two creates claimed one VMID in a race (two nodes, or a retry with
// another VMID): the loser's undo must leave the winner's claim, and the
// archive that the winner's `pct create` is about to unpack.
BOOST_AUTO_TEST_CASE(a_lost_race_for_a_vmid_keeps_the_winners_claim) {
    Cache c;
    c.acquire(4002, "winner");
    c.acquire(4002, "loser");
    c.cache.release(4002, "loser");
    BOOST_TEST(fs::exists(c.archive()));
    BOOST_TEST(read_text(c.users()) == "4002 winner " + node_name() + "\n");
    c.cache.release(4002, "winner");
    BOOST_TEST(!fs::exists(c.archive()));
}

// The same race between two nodes that share the template-dir and were
// given one container id: the claim of the other node stays.
BOOST_AUTO_TEST_CASE(a_lost_race_keeps_another_nodes_claim_of_the_same_id) {
    Cache c;
    c.acquire(4002, "c1");
    lxcri::test::write_text(c.users(), "4002 c1 " + node_name() + "\n4002 c1 other-node\n");
    c.cache.release(4002, "c1");
    BOOST_TEST(fs::exists(c.archive()));
    BOOST_TEST(read_text(c.users()) == "4002 c1 other-node\n");
}

// A users file of 0.1 lists VMIDs alone: a VMID's release takes its line.
BOOST_AUTO_TEST_CASE(a_users_line_of_0_1_is_released_by_its_vmid) {
    Cache c;
    c.acquire(1010, "a");
    lxcri::test::write_text(c.users(), "1010\n1011\n");
    c.cache.release(1010, "a");
    BOOST_TEST(read_text(c.users()) == "1011\n");
    c.cache.release(1011, "b");
    BOOST_TEST(!fs::exists(c.archive()));
}
