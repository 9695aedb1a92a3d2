#define BOOST_TEST_MODULE state_store
#include <boost/test/unit_test.hpp>

#include "state/container_id.hpp"
#include "state/mapping_store.hpp"
#include "state/state_store.hpp"
#include "support/test_support.hpp"
#include "util/fs.hpp"

#include <lxcri/error.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

namespace fs = std::filesystem;
using lxcri::test::TempDir;

namespace {

lxcri::ContainerState sample_state(const std::string& id) {
    lxcri::ContainerState state;
    state.oci_version = lxcri::state_oci_version;
    state.id = id;
    state.status = lxcri::Status::created;
    state.pid = 42;
    state.bundle = "/srv/bundle";
    state.annotations = {{"org.example/key", "value"}};
    state.vmid = 4711;
    state.backend = "dry-run";
    state.created = "2026-01-02T03:04:05.000000000Z";
    return state;
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

BOOST_AUTO_TEST_CASE(container_ids_are_checked_before_use) {
    for (const char* good : {"c1", "a", "A.b_c+d-e", "0abc"}) BOOST_CHECK_NO_THROW(lxcri::validate_container_id(good));
    for (std::string bad : {std::string(), std::string("../x"), std::string("a/b"), std::string(200, 'a'),
                            std::string(".hidden"), std::string("-flag"), std::string("a b"), std::string("a\nb"),
                            std::string("é")}) {
        BOOST_TEST_CONTEXT("id '" << bad << "'") {
            BOOST_CHECK_EXCEPTION(lxcri::validate_container_id(bad), lxcri::Error,
                                  [](const lxcri::Error& e) { return e.code() == lxcri::Errc::invalid_input; });
        }
    }
    BOOST_CHECK_NO_THROW(lxcri::validate_container_id(std::string(128, 'a')));
    BOOST_CHECK_THROW(lxcri::validate_container_id(std::string(129, 'a')), lxcri::Error);
}

BOOST_AUTO_TEST_CASE(state_round_trips_through_state_json) {
    TempDir tmp;
    lxcri::StateStore store(tmp / "root");
    store.create_container_dir("c1");
    BOOST_CHECK_EQUAL(mode_of(tmp / "root"), 0700u);
    BOOST_CHECK_EQUAL(mode_of(tmp / "root" / "c1"), 0700u);
    BOOST_CHECK(!store.read("c1"));  // no state.json yet: being created

    store.write(sample_state("c1"));
    auto read = store.read("c1");
    BOOST_REQUIRE(read);
    BOOST_CHECK_EQUAL(read->id, "c1");
    BOOST_CHECK(read->status == lxcri::Status::created);
    BOOST_CHECK_EQUAL(read->pid, 42);
    BOOST_CHECK_EQUAL(read->vmid, 4711u);
    BOOST_CHECK_EQUAL(read->backend, "dry-run");
    BOOST_CHECK_EQUAL(read->annotations.at("org.example/key"), "value");
    BOOST_CHECK_EQUAL(mode_of(tmp / "root" / "c1" / "state.json"), 0600u);

    BOOST_CHECK_EQUAL(store.ids().size(), 1u);
    store.remove("c1");
    BOOST_CHECK(!fs::exists(tmp / "root" / "c1"));
    BOOST_CHECK_THROW(store.read("c1"), lxcri::Error);
}

BOOST_AUTO_TEST_CASE(second_create_of_an_id_fails) {
    TempDir tmp;
    lxcri::StateStore store(tmp / "root");
    store.create_container_dir("c1");
    BOOST_CHECK_EXCEPTION(store.create_container_dir("c1"), lxcri::Error, [](const lxcri::Error& e) {
        return e.code() == lxcri::Errc::already_exists &&
               std::string(e.what()).find("container with given ID already exists") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(damaged_state_json_is_reported_not_crashed_on) {
    TempDir tmp;
    lxcri::StateStore store(tmp / "root");
    store.create_container_dir("c1");
    lxcri::test::write_text(tmp / "root" / "c1" / "state.json", "{\"id\": 5}");
    BOOST_CHECK_THROW(store.read("c1"), lxcri::Error);
    lxcri::test::write_text(tmp / "root" / "c1" / "state.json", "{not json");
    BOOST_CHECK_THROW(store.read("c1"), lxcri::Error);
}

BOOST_AUTO_TEST_CASE(atomic_write_leaves_no_temp_files_and_replaces_whole) {
    TempDir tmp;
    fs::path file = tmp / "f.json";
    lxcri::write_file_atomic(file, "first");
    lxcri::write_file_atomic(file, "second, longer");
    BOOST_CHECK_EQUAL(lxcri::test::read_text(file), "second, longer");
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path())) ++entries;
    BOOST_CHECK_EQUAL(entries, 1u);
    // A write into a missing directory fails cleanly.
    BOOST_CHECK_THROW(lxcri::write_file_atomic(tmp / "missing" / "f", "x"), lxcri::Error);
}

BOOST_AUTO_TEST_CASE(mapping_persists_and_commits_only_changes) {
    TempDir tmp;
    lxcri::MappingStore store(tmp / "state");
    {
        auto t = store.begin();
        BOOST_CHECK(t.entries().empty());
        t.entries()["c1"] = {123, "dry-run", "2026-01-01T00:00:00Z"};
        t.commit();
    }
    BOOST_CHECK_EQUAL(mode_of(tmp / "state"), 0700u);
    lxcri::MappingStore again(tmp / "state");
    auto mapping = again.read();
    BOOST_REQUIRE_EQUAL(mapping.size(), 1u);
    BOOST_CHECK_EQUAL(mapping.at("c1").vmid, 123u);
    {
        auto t = again.begin();
        t.entries().erase("c1");
        // not committed: nothing changes on disk
    }
    BOOST_CHECK_EQUAL(again.read().size(), 1u);
}

BOOST_AUTO_TEST_CASE(damaged_mapping_json_is_an_error) {
    TempDir tmp;
    lxcri::test::write_text(tmp / "state" / "mapping.json", "{\"version\": 9, \"containers\": {}}");
    lxcri::MappingStore store(tmp / "state");
    BOOST_CHECK_THROW(store.read(), lxcri::Error);
    lxcri::test::write_text(tmp / "state" / "mapping.json", "[1,2");
    BOOST_CHECK_THROW(store.read(), lxcri::Error);
}

// Read-modify-writes from many processes at once: the lock loses none.
BOOST_AUTO_TEST_CASE(mapping_lock_serialises_processes) {
    TempDir tmp;
    const int children = 8, per_child = 25;
    std::vector<pid_t> pids;
    for (int c = 0; c < children; ++c) {
        pid_t pid = ::fork();
        BOOST_REQUIRE(pid >= 0);
        if (pid == 0) {
            try {
                lxcri::MappingStore store(tmp / "state");
                for (int i = 0; i < per_child; ++i) {
                    auto t = store.begin();
                    std::string id = "c" + std::to_string(c) + "-" + std::to_string(i);
                    t.entries()[id] = {lxcri::Vmid(100 + t.entries().size()), "dry-run", ""};
                    t.commit();
                }
                _exit(0);
            } catch (...) {
                _exit(1);
            }
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto mapping = lxcri::MappingStore(tmp / "state").read();
    BOOST_CHECK_EQUAL(mapping.size(), size_t(children * per_child));
    std::set<lxcri::Vmid> vmids;
    for (const auto& [id, entry] : mapping) vmids.insert(entry.vmid);
    BOOST_CHECK_EQUAL(vmids.size(), mapping.size());
}
