#define BOOST_TEST_MODULE runtime_create
#include <boost/test/unit_test.hpp>

#include "runtime/runtime.hpp"
#include "state/mapping_store.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/backend.hpp>
#include <lxcri/error.hpp>
#include <lxcri/mapping.hpp>

#include <boost/json.hpp>

#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

// Runtime::create driven through its PluginSource with a scripted backend
// and mapping: its rollback, the VMID retry after already_exists and a
// failing hook, without a plugin library or the binary.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::TempDir;

namespace {

// What the scripted backend does, and what it was asked.
struct Script {
    std::set<lxcri::Vmid> in_use;         // vmids_in_use()
    std::set<lxcri::Vmid> taken;          // taken by someone else just before create tries them
    bool fail = false;                    // create throws failed
    std::vector<std::string> calls;       // "create 100", "remove 100"
    std::string config_json;              // what the last create got
};

class ScriptedBackend final : public lxcri::Backend {
public:
    explicit ScriptedBackend(Script& script) : script_(script) {}
    std::set<lxcri::Vmid> vmids_in_use() override { return script_.in_use; }
    lxcri::CreateResult create(const lxcri::CreateRequest& request) override {
        auto vmid = request.container.vmid;
        script_.calls.push_back("create " + std::to_string(vmid));
        script_.config_json = request.config_json;
        if (script_.taken.count(vmid)) {
            script_.in_use.insert(vmid);  // the host shows it from now on
            throw lxcri::Error(lxcri::Errc::already_exists, "VMID " + std::to_string(vmid) + " is taken");
        }
        if (script_.fail) throw lxcri::Error(lxcri::Errc::failed, "scripted failure");
        return {{lxcri::Status::created, 0}, pid_t(0)};
    }
    void start(const lxcri::ContainerRef&) override {}
    lxcri::ContainerStatus state(const lxcri::ContainerRef&) override { return {lxcri::Status::created, 0}; }
    void kill(const lxcri::ContainerRef&, int, bool) override {}
    void remove(const lxcri::ContainerRef& c, bool) override {
        script_.calls.push_back("remove " + std::to_string(c.vmid));
    }

private:
    Script& script_;
};

// Candidate k is the range's k-th VMID.
class SequentialMapping final : public lxcri::MappingStrategy {
public:
    lxcri::Vmid candidate(std::string_view, lxcri::VmidRange range, std::uint64_t attempt) const override {
        return range.min + static_cast<lxcri::Vmid>(attempt);
    }
};

class ScriptedPlugins final : public lxcri::PluginSource {
public:
    explicit ScriptedPlugins(Script& script) : script_(script) {}
    bool has(lxcri::PluginKind, const std::string&) const override { return true; }
    lxcri::Plugin<lxcri::Backend> load_backend(const std::string&, const lxcri::PluginContext&) const override {
        return {boost::dll::shared_library(), std::make_unique<ScriptedBackend>(script_), {}};
    }
    lxcri::Plugin<lxcri::MappingStrategy> load_mapping(const std::string&,
                                                       const lxcri::PluginContext&) const override {
        return {boost::dll::shared_library(), std::make_unique<SequentialMapping>(), {}};
    }

private:
    Script& script_;
};

struct Host {
    TempDir tmp;
    Script script;
    fs::path bundle = tmp / "bundle";
    lxcri::Config config;

    Host() {
        // As main does: a hook that exits before reading its stdin must not kill us.
        ::signal(SIGPIPE, SIG_IGN);
        fs::create_directories(bundle / "rootfs");
        write_config({});
        config.backend = "scripted";
        config.mapping = "sequential";
        config.root = tmp / "run";
        config.state_dir = tmp / "state";
        config.vmid_range = {100, 199};
    }

    void write_config(const json::object& hooks) {
        json::object doc = lxcri::read_json_file(fs::path(LXCRI_FIXTURES_DIR) / "bundles/good/minimal/config.json")
                               .as_object();
        if (!hooks.empty()) doc["hooks"] = hooks;
        lxcri::test::write_text(bundle / "config.json", json::serialize(doc));
    }

    lxcri::Runtime runtime() { return lxcri::Runtime(config, std::make_unique<ScriptedPlugins>(script)); }

    lxcri::ContainerState create(const std::string& id) {
        lxcri::CreateOptions options;
        options.bundle = bundle;
        return runtime().create(id, options);
    }

    lxcri::Mapping mapping() const { return lxcri::MappingStore(config.state_dir).read(); }
};

// The create fails with `code` and leaves no trace of `id`.
void expect_rolled_back(Host& host, const std::string& id, lxcri::Errc code) {
    try {
        host.create(id);
        BOOST_FAIL("create succeeded");
    } catch (const lxcri::Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        BOOST_TEST((e.code() == code));
    }
    BOOST_TEST(!fs::exists(host.config.root / id));
    BOOST_TEST(!host.mapping().count(id));
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_backend_gets_the_text_the_core_parsed_and_stored) {
    Host host;
    auto state = host.create("c1");
    std::string text = lxcri::test::read_text(host.bundle / "config.json");
    BOOST_TEST(state.vmid == 100u);
    BOOST_TEST(host.script.config_json == text);
    BOOST_TEST(lxcri::test::read_text(host.config.root / "c1" / "config.json") == text);
    BOOST_TEST(host.mapping().at("c1").vmid == 100);
    BOOST_TEST(host.script.calls == std::vector<std::string>{"create 100"});
}

BOOST_AUTO_TEST_CASE(vmids_in_use_are_skipped) {
    Host host;
    host.script.in_use = {100, 101};
    BOOST_TEST(host.create("c1").vmid == 102u);
}

BOOST_AUTO_TEST_CASE(a_failed_backend_create_is_rolled_back) {
    Host host;
    host.script.fail = true;
    expect_rolled_back(host, "c1", lxcri::Errc::failed);
    // The backend undid its own part: the core calls no remove.
    BOOST_TEST(host.script.calls == std::vector<std::string>{"create 100"});
}

BOOST_AUTO_TEST_CASE(a_vmid_lost_to_a_race_is_replaced_by_the_next_free_one) {
    Host host;
    host.script.taken = {100, 101};
    auto state = host.create("c1");
    BOOST_TEST(state.vmid == 102u);
    BOOST_TEST(host.script.calls == (std::vector<std::string>{"create 100", "create 101", "create 102"}),
               boost::test_tools::per_element());
    BOOST_TEST(host.mapping().at("c1").vmid == 102);
    auto stored = lxcri::read_json_file(host.config.root / "c1" / "state.json").as_object();
    BOOST_TEST(stored.at("vmid").as_int64() == 102);
}

BOOST_AUTO_TEST_CASE(create_gives_up_after_ten_lost_races) {
    Host host;
    for (lxcri::Vmid v = 100; v < 150; ++v) host.script.taken.insert(v);
    expect_rolled_back(host, "c1", lxcri::Errc::already_exists);
    BOOST_TEST(host.script.calls.size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_failing_hook_removes_what_the_backend_made) {
    Host host;
    host.write_config({{"prestart", json::array{json::object{{"path", "/bin/false"}}}}});
    expect_rolled_back(host, "c1", lxcri::Errc::failed);
    BOOST_TEST(host.script.calls == (std::vector<std::string>{"create 100", "remove 100"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_rolled_back_create_gives_the_old_mapping_entry_back) {
    Host host;
    auto first = host.create("c1");
    // The container is gone (a reboot empties <root>), its mapping stays.
    fs::remove_all(host.config.root / "c1");
    host.script.fail = true;
    BOOST_CHECK_THROW(host.create("c1"), lxcri::Error);
    BOOST_TEST(host.mapping().at("c1").vmid == first.vmid);
}

BOOST_AUTO_TEST_CASE(a_second_create_of_one_id_changes_nothing) {
    Host host;
    host.create("c1");
    host.script.calls.clear();
    BOOST_CHECK_THROW(host.create("c1"), lxcri::Error);
    BOOST_TEST(host.script.calls.empty());
    BOOST_TEST(fs::exists(host.config.root / "c1" / "state.json"));
}
