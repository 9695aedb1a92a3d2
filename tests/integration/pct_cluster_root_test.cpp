#define BOOST_TEST_MODULE pct_cluster
#include <boost/test/unit_test.hpp>

#include "fakes/fake_pve.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <map>
#include <set>
#include <thread>

// Two Proxmox nodes of one cluster, each with its own proxmox-lxcri (root,
// state dir, mapping), sharing one pve dir as pmxcfs shares /etc/pve: the
// double's FAKE_PVE_NODE names the node a pct call runs on. Both nodes
// propose the same VMIDs (the incremental mapping, one range) and create
// at once; pct create, atomic in pmxcfs, lets one node have each VMID, and
// the other retries with the next. Needs root (the double runs each CT
// with real LXC).
namespace fs = std::filesystem;
namespace json = boost::json;
namespace fake = lxcri::test::pct;
using lxcri::test::RunOptions;
using lxcri::test::RunResult;

namespace {

constexpr int rounds = 20;
constexpr int per_node = 4;

struct Node {
    std::string name;  // pve1, pve2
    fs::path root, state, config;

    RunResult cli(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        RunOptions options;
        options.env["PROXMOX_LXCRI_CONFIG"] = config.string();
        options.env["FAKE_PVE_NODE"] = name;
        return fake::run_with_output_files(argv, options, root.parent_path() / (name + "-" + args.back() + ".out"),
                                           root.parent_path() / (name + "-" + args.back() + ".err"));
    }

    std::set<std::string> listed() const {
        auto r = cli({"list", "--format", "json"});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        std::set<std::string> ids;
        auto doc = lxcri::parse_json(r.out, "list");
        for (const auto& entry : doc.as_array())
            ids.insert(std::string(entry.as_object().at("id").as_string()));
        return ids;
    }
};

struct Cluster {
    fake::FakePve pve;
    std::vector<Node> nodes;
    fs::path bundle;

    Cluster() {
        lxcri::test::become_subreaper();
        for (const char* name : {"pve1", "pve2"}) {
            Node node{name, pve.tmp / name / "run", pve.tmp / name / "state", pve.tmp / name / "config"};
            fs::create_directories(node.root);
            std::string text = "backend = pct\nmapping = incremental\nvmid-min = 4000\nvmid-max = 4999\n[pct]\n";
            for (const auto& [key, value] : pve.options()) text += key + " = " + value + "\n";
            lxcri::test::write_text(node.config, text);
            nodes.push_back(node);
        }
        bundle = fake::make_bundle(pve.tmp / "bundle", "minimal", [](json::object& doc) {
            doc["process"].as_object()["args"] = json::array{"/bin/sh", "-c", "exit 0"};
        });
    }

    static std::string id_of(int round, const Node& node, int n) {
        return "r" + std::to_string(round) + "-" + node.name + "-" + std::to_string(n);
    }

    // Every command of `commands` (node, argv) at once; their results in order.
    std::vector<RunResult> at_once(const std::vector<std::pair<const Node*, std::vector<std::string>>>& commands) const {
        std::vector<RunResult> results(commands.size());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < commands.size(); ++i)
            threads.emplace_back([&, i] { results[i] = commands[i].first->cli(commands[i].second); });
        for (auto& t : threads) t.join();
        return results;
    }
};

struct RootOnly {
    RootOnly() { BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "pct_cluster tests need root (real LXC)"); }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(RootOnly);

BOOST_FIXTURE_TEST_CASE(two_nodes_racing_creates_never_share_or_lose_a_vmid, Cluster) {
    int lost_races = 0;
    for (int round = 0; round < rounds; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            std::vector<std::pair<const Node*, std::vector<std::string>>> creates;
            for (const auto& node : nodes)
                for (int n = 0; n < per_node; ++n)
                    creates.push_back({&node, {"create", "--bundle", bundle.string(), id_of(round, node, n)}});
            auto created = at_once(creates);
            for (std::size_t i = 0; i < created.size(); ++i)
                BOOST_REQUIRE_MESSAGE(created[i].exit_code == 0, creates[i].second.back() << ": " << created[i].err);

            // Each id has its own VMID, the CT on the node that made it.
            std::map<std::int64_t, std::string> owner;  // VMID -> node
            auto vmlist = lxcri::read_json_file(pve.dir / ".vmlist").as_object().at("ids").as_object();
            for (const auto& node : nodes) {
                std::set<std::string> expected;
                for (int n = 0; n < per_node; ++n) {
                    std::string id = id_of(round, node, n);
                    expected.insert(id);
                    auto state = node.cli({"state", id});
                    BOOST_REQUIRE_MESSAGE(state.exit_code == 0, state.err);
                    auto doc = lxcri::parse_json(state.out, "state").as_object();
                    BOOST_TEST(std::string(doc.at("status").as_string()) == "created");
                    std::int64_t vmid = doc.at("vmid").as_int64();
                    BOOST_TEST(owner.emplace(vmid, node.name).second, "VMID " << vmid << " given twice");
                    auto entry = vmlist.if_contains(std::to_string(vmid));
                    BOOST_REQUIRE_MESSAGE(entry, "VMID " << vmid << " of " << id << " is not in .vmlist");
                    BOOST_TEST(std::string(entry->as_object().at("node").as_string()) == node.name);
                    BOOST_TEST(lxcri::test::read_text(pve.dir / "lxc" / (std::to_string(vmid) + ".conf"))
                                   .find("proxmox-lxcri container " + id + "\n") != std::string::npos);
                }
                BOOST_TEST(node.listed() == expected);
            }
            BOOST_TEST(vmlist.size() == owner.size());  // no CT beyond ours: none lost, none half-made

            std::vector<std::pair<const Node*, std::vector<std::string>>> deletes;
            for (const auto& node : nodes)
                for (int n = 0; n < per_node; ++n) deletes.push_back({&node, {"delete", "--force", id_of(round, node, n)}});
            for (const auto& r : at_once(deletes)) BOOST_TEST(r.exit_code == 0, r.err);
            BOOST_TEST(pve.leftovers().empty(), fake::lines(pve.leftovers()));
        }
    }
    for (const auto& call : pve.calls())
        if (call.prog == "pct" && !call.argv.empty() && call.argv[0] == "create" &&
            call.stderr_text.find("already exists on node") != std::string::npos)
            ++lost_races;
    BOOST_TEST_MESSAGE(lost_races << " creates lost a VMID to the other node and took the next");
    BOOST_TEST(lost_races > 0);  // the nodes did race
    BOOST_TEST(pve.rejected_calls().empty(), pve.rejected_calls());
}
