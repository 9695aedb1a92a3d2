#define BOOST_TEST_MODULE state_store
#include <boost/test/unit_test.hpp>

#include "state/container_id.hpp"
#include "state/mapping_store.hpp"
#include "state/state_store.hpp"
#include "support/test_support.hpp"
#include "util/fs.hpp"

#include <lxcri/error.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
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

namespace {

// Runs `f`, which must throw an Error whose message contains every one of `parts`.
template <class F>
void check_refused(F f, std::initializer_list<std::string> parts) {
    try {
        f();
        BOOST_ERROR("accepted");
    } catch (const lxcri::Error& e) {
        std::string message = e.what();
        for (const auto& part : parts)
            BOOST_CHECK_MESSAGE(message.find(part) != std::string::npos, "'" << message << "' lacks '" << part << "'");
        BOOST_CHECK(message.find("boost") == std::string::npos);
    }
}

// c1's state.json as the store writes it, with `member` replaced by `value`
// (JSON text) or removed when `value` is empty.
std::string state_with(const std::string& member, const std::string& value) {
    auto object = sample_state("c1").to_json();
    if (value.empty())
        object.erase(member);
    else
        object[member] = boost::json::parse(value);
    return boost::json::serialize(object);
}

}  // namespace

// The directory names the container: a state.json that names another one,
// or holds a VMID, backend or field that could not have been written by us,
// is an error naming the file, never read as something else.
BOOST_AUTO_TEST_CASE(state_json_is_checked_like_user_input) {
    TempDir tmp;
    lxcri::StateStore store(tmp / "root");
    store.create_container_dir("c1");
    fs::path file = tmp / "root" / "c1" / "state.json";
    struct Case {
        std::string member, value, expected;
    };
    std::vector<Case> cases = {
        {"id", R"("c2")", "id: 'c2' is not the id of its directory 'c1'"},
        {"id", R"("../c1")", "id: '../c1' is not the id of its directory 'c1'"},
        {"vmid", "1099511627776", "vmid: must be between 100 and 999999999"},  // 2^40, once read as VMID 0
        {"vmid", "4294967396", "vmid: must be between 100 and 999999999"},     // 2^32 + 100
        {"vmid", "99", "vmid: must be between 100 and 999999999"},
        {"vmid", "-5", "vmid: must be between 100 and 999999999"},
        {"vmid", "1e3", "vmid: must be an integer"},
        {"vmid", R"("4711")", "vmid: must be an integer"},
        {"vmid", "", "vmid: is required"},
        {"backend", R"("../../tmp/evil")", "backend: '../../tmp/evil' is not a valid plugin name"},
        {"backend", R"("")", "backend: '' is not a valid plugin name"},
        {"backend", "7", "backend: must be a string"},
        {"pid", "-1", "pid: must be between 0 and"},
        {"pid", "4294967296", "pid: must be between 0 and"},
        {"pid", R"("42")", "pid: must be an integer"},
        {"status", R"("exploded")", "status: 'exploded' is not a status"},
        {"status", "[]", "status: must be a string"},
        {"bundle", R"("relative/dir")", "bundle: must be an absolute path"},
        {"bundle", "{}", "bundle: must be a string"},
        {"annotations", R"({"a": 1})", "annotations[\"a\"]: must be a string"},
        {"annotations", "[]", "annotations: must be an object"},
        {"created", "0", "created: must be a string"},
        {"ociVersion", "", "ociVersion: is required"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.member << " = " << c.value) {
            lxcri::test::write_text(file, state_with(c.member, c.value));
            check_refused([&] { store.read("c1"); }, {file.string(), c.expected});
        }
    }
    for (const char* document : {"[]", "5", "\"state\"", "null"}) {
        BOOST_TEST_CONTEXT(document) {
            lxcri::test::write_text(file, document);
            check_refused([&] { store.read("c1"); }, {file.string(), "must be an object"});
        }
    }
    // Members we do not know are left alone, as in config.json.
    lxcri::test::write_text(file, state_with("x-extension", "[1]"));
    BOOST_CHECK_EQUAL(store.read("c1")->vmid, 4711u);
}

// mapping.json entries are refused with the file and the entry named; out
// of range VMIDs were once wrapped to 32 bits, duplicates and ids that are
// no container id were once accepted.
BOOST_AUTO_TEST_CASE(mapping_json_is_checked_like_user_input) {
    TempDir tmp;
    fs::path file = tmp / "state" / "mapping.json";
    lxcri::MappingStore store(tmp / "state");
    auto mapping_with = [&](const std::string& containers) {
        lxcri::test::write_text(file, R"({"version": 1, "containers": )" + containers + "}");
    };
    struct Case {
        std::string containers, expected;
    };
    std::vector<Case> cases = {
        {R"({"a": {"vmid": -5, "backend": "lxc"}})", R"(containers["a"].vmid: must be between 100 and 999999999)"},
        {R"({"a": {"vmid": 4294967396, "backend": "lxc"}})", R"(containers["a"].vmid: must be between)"},
        {R"({"a": {"vmid": 1099511627776, "backend": "lxc"}})", R"(containers["a"].vmid: must be between)"},
        {R"({"a": {"vmid": 1000000000, "backend": "lxc"}})", R"(containers["a"].vmid: must be between)"},
        {R"({"a": {"vmid": 150.5, "backend": "lxc"}})", R"(containers["a"].vmid: must be an integer)"},
        {R"({"a": {"vmid": "150", "backend": "lxc"}})", R"(containers["a"].vmid: must be an integer)"},
        {R"({"a": {"backend": "lxc"}})", R"(containers["a"].vmid: is required)"},
        {R"({"a": {"vmid": 150, "backend": "lxc"}, "b": {"vmid": 150, "backend": "lxc"}})",
         R"(containers["b"].vmid: 150 is the VMID of 'a' too)"},
        {R"({"../../x": {"vmid": 150, "backend": "lxc"}})", R"(containers["../../x"]: invalid container id '../../x')"},
        {R"({"": {"vmid": 150, "backend": "lxc"}})", R"(containers[""]: invalid container id '')"},
        {R"({"a": {"vmid": 150, "backend": "LXC/.."}})", R"(containers["a"].backend: 'LXC/..' is not a valid plugin name)"},
        {R"({"a": {"vmid": 150, "backend": 1}})", R"(containers["a"].backend: must be a string)"},
        {R"({"a": {"vmid": 150, "backend": "lxc", "created": 5}})", R"(containers["a"].created: must be a string)"},
        {R"({"a": [150, "lxc"]})", R"(containers["a"]: must be an object)"},
        {R"([{"vmid": 150}])", "containers: must be an object"},
        {"null", "containers: is required"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.containers) {
            mapping_with(c.containers);
            check_refused([&] { store.read(); }, {file.string(), c.expected});
            check_refused([&] { store.begin(); }, {file.string(), c.expected});
        }
    }
    lxcri::test::write_text(file, R"({"version": "1", "containers": {}})");
    check_refused([&] { store.read(); }, {file.string(), "version: must be an integer"});
    lxcri::test::write_text(file, R"({"containers": {}})");
    check_refused([&] { store.read(); }, {file.string(), "version: is required"});
    lxcri::test::write_text(file, "[]");
    check_refused([&] { store.read(); }, {file.string(), "must be an object"});

    mapping_with(R"({"a": {"vmid": 100, "backend": "lxc"}, "b": {"vmid": 999999999, "backend": "dry-run"}})");
    auto mapping = store.read();
    BOOST_CHECK_EQUAL(mapping.at("a").vmid, 100u);
    BOOST_CHECK_EQUAL(mapping.at("b").vmid, 999999999u);
    BOOST_CHECK_EQUAL(mapping.at("b").created, "");
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

BOOST_AUTO_TEST_CASE(mapping_persists_an_entry_and_a_claim_per_container) {
    TempDir tmp;
    fs::path dir = tmp / "state" / "mapping";
    lxcri::MappingStore store(tmp / "state");
    {
        auto t = store.begin();
        BOOST_CHECK(t.vmids().empty());
        BOOST_CHECK(!t.find("c1"));
        BOOST_CHECK(!t.owner(123));
        t.put("c1", {123, "dry-run", "2026-01-01T00:00:00Z"});
        t.put("c2", {124, "lxc", ""});
        BOOST_CHECK_EQUAL(t.owner(123).value_or("none"), "c1");
    }
    BOOST_CHECK_EQUAL(mode_of(tmp / "state"), 0700u);
    BOOST_CHECK_EQUAL(mode_of(dir), 0700u);
    BOOST_CHECK_EQUAL(mode_of(dir / "c1"), 0600u);
    BOOST_CHECK_EQUAL(fs::read_symlink(dir / "@123").string(), "c1");
    lxcri::MappingStore again(tmp / "state");
    auto mapping = again.read();
    BOOST_REQUIRE_EQUAL(mapping.size(), 2u);
    BOOST_CHECK(mapping.at("c1") == (lxcri::MappingEntry{123, "dry-run", "2026-01-01T00:00:00Z"}));
    {
        auto t = again.begin();
        BOOST_CHECK(t.vmids() == (std::vector<lxcri::Vmid>{123, 124}));
        BOOST_CHECK_EQUAL(t.owner(124).value_or("none"), "c2");
        // A new VMID for c2: its entry names it, the old claim is gone.
        t.put("c2", {130, "lxc", "x"});
        t.erase("c1");
        // Another id's VMID is refused.
        BOOST_CHECK_THROW(t.put("c3", {130, "lxc", ""}), lxcri::Error);
        BOOST_CHECK(!t.owner(124));
    }
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename());
    BOOST_CHECK(names == (std::set<std::string>{"c2", "@130"}));
    BOOST_CHECK(again.read() == (lxcri::Mapping{{"c2", {130, "lxc", "x"}}}));
}

// A claim whose entry does not give it that VMID (left by a process killed
// between the two) counts for nothing, and the lookup of its VMID removes it.
BOOST_AUTO_TEST_CASE(a_claim_without_its_entry_counts_for_nothing) {
    TempDir tmp;
    fs::path dir = tmp / "state" / "mapping";
    lxcri::MappingStore store(tmp / "state");
    store.begin().put("a", {150, "lxc", ""});
    fs::create_symlink("ghost", dir / "@170");  // killed before the entry was written
    fs::create_symlink("a", dir / "@171");      // killed before a's old claim was removed
    {
        auto t = store.begin();
        // More claims than entries: each is looked up, and the two removed.
        BOOST_CHECK(t.vmids() == std::vector<lxcri::Vmid>{150});
        BOOST_CHECK(!t.owner(170));
        BOOST_CHECK(!fs::is_symlink(dir / "@170"));
        BOOST_CHECK(!t.owner(171));
        BOOST_CHECK(!fs::is_symlink(dir / "@171"));
        t.put("ghost", {170, "lxc", ""});
    }
    fs::create_symlink("a", dir / "@172");
    BOOST_CHECK(store.begin().vmids() == (std::vector<lxcri::Vmid>{150, 170}));
    fs::create_symlink("a", dir / "@172");
    BOOST_CHECK(store.read() == (lxcri::Mapping{{"a", {150, "lxc", ""}}, {"ghost", {170, "lxc", ""}}}));
    BOOST_CHECK(!fs::is_symlink(dir / "@172"));  // read() removes them too
}

// An undo puts the old entry back with renames only (no disk space), or
// removes the entry when its old VMID went to another id meanwhile.
BOOST_AUTO_TEST_CASE(a_saved_entry_comes_back) {
    TempDir tmp;
    lxcri::MappingStore store(tmp / "state");
    store.begin().put("c1", {200, "lxc", "old"});
    auto saved = store.begin().save("c1");
    {
        auto t = store.begin();
        t.put("c1", {201, "dry-run", "new"});
    }
    // The old claim was released by the new VMID; the undo renames it back
    // (no new file: it needs no space).
    fs::path dir = tmp / "state" / "mapping";
    BOOST_CHECK(!fs::is_symlink(dir / "@200"));
    struct stat before {};
    BOOST_REQUIRE(::lstat((dir / (".saved." + std::to_string(::getpid()) + ".@200")).c_str(), &before) == 0);
    store.begin().restore("c1", saved);
    BOOST_CHECK(store.read() == (lxcri::Mapping{{"c1", {200, "lxc", "old"}}}));
    struct stat after {};
    BOOST_REQUIRE(::lstat((dir / "@200").c_str(), &after) == 0);
    BOOST_CHECK_EQUAL(after.st_ino, before.st_ino);
    BOOST_CHECK(!fs::is_symlink(dir / "@201"));

    saved = store.begin().save("c1");
    store.begin().put("c1", {202, "lxc", "new"});
    store.begin().put("c9", {200, "lxc", ""});  // the old VMID, now free, is taken
    store.begin().restore("c1", saved);
    BOOST_CHECK(store.read() == (lxcri::Mapping{{"c9", {200, "lxc", ""}}}));

    // An id that had no entry has none after the restore.
    auto none = store.begin().save("c2");
    store.begin().put("c2", {300, "lxc", ""});
    store.begin().restore("c2", none);
    BOOST_CHECK(!store.read().count("c2"));
    // No saved link or temporary file is left.
    for (const auto& e : fs::directory_iterator(tmp / "state" / "mapping"))
        BOOST_CHECK_MESSAGE(!e.path().filename().string().starts_with("."), e.path());
}

// The names, claims and files of mapping/ are checked like user input,
// naming the file.
BOOST_AUTO_TEST_CASE(mapping_entries_are_checked_like_user_input) {
    TempDir tmp;
    fs::path dir = tmp / "state" / "mapping";
    lxcri::MappingStore store(tmp / "state");
    store.begin().put("a", {150, "lxc", ""});
    struct Case {
        std::string name, expected;
    };
    // Names that are neither an entry's nor a claim's (read() lists them).
    std::vector<Case> names = {
        {"b@160", "not a mapping entry (<id>) nor a claim (@<vmid>)"},
        {"-b", "invalid container id '-b'"},
        {"@", "'' is no VMID"},
        {"@0150", "without leading zeros"},
        {"@99", "must be between 100 and 999999999"},
        {"@1000000000", "must be between 100 and 999999999"},
        {"@12x", "'12x' is no VMID"},
    };
    for (const auto& c : names) {
        BOOST_TEST_CONTEXT(c.name) {
            fs::create_symlink("a", dir / c.name);
            check_refused([&] { store.read(); }, {(dir / c.name).string(), c.expected});
            fs::remove(dir / c.name);
        }
    }
    // Claims that are damaged, met by a lookup of their VMID.
    std::vector<std::pair<std::string, std::string>> claims = {{"", "not a symbolic link"},
                                                                {"../x", "invalid container id '../x'"}};
    for (const auto& [target, expected] : claims) {
        BOOST_TEST_CONTEXT(target) {
            if (target.empty())
                lxcri::test::write_text(dir / "@160", "a");
            else
                fs::create_symlink(target, dir / "@160");
            check_refused([&] { store.begin().owner(160); }, {(dir / "@160").string(), expected});
            check_refused([&] { store.read(); }, {(dir / "@160").string(), expected});
            fs::remove(dir / "@160");
        }
    }
    // An entry whose claim is missing or is another id's.
    fs::remove(dir / "@150");
    check_refused([&] { store.begin().find("a"); }, {(dir / "a").string(), "VMID 150 has no claim"});
    fs::create_symlink("b", dir / "@150");
    check_refused([&] { store.begin().find("a"); }, {(dir / "a").string(), "VMID 150 is claimed by 'b'"});
    fs::remove(dir / "@150");
    fs::create_symlink("a", dir / "@150");
    std::vector<Case> contents = {
        {"", (dir / "a").string()},
        {"[1", (dir / "a").string()},
        {"{}", "vmid: is required"},
        {R"({"vmid": 150})", "backend: is required"},
        {R"({"vmid": 99, "backend": "lxc"})", "vmid: must be between 100 and 999999999"},
        {R"({"vmid": "150", "backend": "lxc"})", "vmid: must be an integer"},
        {R"({"vmid": 150, "backend": "LXC/.."})", "backend: 'LXC/..' is not a valid plugin name"},
        {R"({"vmid": 150, "backend": "lxc", "created": 5})", "created: must be a string"},
    };
    for (const auto& c : contents) {
        BOOST_TEST_CONTEXT(c.name) {
            lxcri::test::write_text(dir / "a", c.name);
            check_refused([&] { store.read(); }, {(dir / "a").string(), c.expected});
            check_refused([&] { store.begin().find("a"); }, {(dir / "a").string(), c.expected});
        }
    }
    fs::remove(dir / "a");
    fs::create_directory(dir / "a");
    check_refused([&] { store.begin().find("a"); }, {(dir / "a").string(), "not a regular file"});
}

// A mapping.json of 0.1 is moved into mapping/ by the first transaction.
BOOST_AUTO_TEST_CASE(a_mapping_json_of_0_1_is_moved_in) {
    TempDir tmp;
    lxcri::test::write_text(tmp / "state" / "mapping.json",
                            R"({"version": 1, "containers": {"a": {"vmid": 100, "backend": "lxc", "created": "t"},)"
                            R"( "b": {"vmid": 101, "backend": "dry-run"}}})");
    lxcri::MappingStore store(tmp / "state");
    // Killed half-way through an earlier move: one entry is there already.
    fs::create_directories(tmp / "state" / "mapping");
    fs::create_symlink("a", tmp / "state" / "mapping" / "@100");
    lxcri::test::write_text(tmp / "state" / "mapping" / "a", R"({"vmid": 100, "backend": "lxc", "created": "t"})");
    auto mapping = store.read();
    BOOST_CHECK(mapping == (lxcri::Mapping{{"a", {100, "lxc", "t"}}, {"b", {101, "dry-run", ""}}}));
    BOOST_CHECK(!fs::exists(tmp / "state" / "mapping.json"));
    BOOST_CHECK(fs::exists(tmp / "state" / "mapping" / "b"));
    BOOST_CHECK_EQUAL(fs::read_symlink(tmp / "state" / "mapping" / "@101").string(), "b");
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
                    t.put(id, {lxcri::Vmid(100 + t.vmids().size()), "dry-run", ""});
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

// A process killed at any moment of a mapping change leaves a mapping that
// reads whole (no id and no VMID twice, every entry readable and claimed),
// and a full read removes what it left (its saved entries, a temporary
// file, a claim its entry does not give).
// The child does what create, its undo and delete do, in a loop.
BOOST_AUTO_TEST_CASE(a_kill_at_any_moment_leaves_the_mapping_consistent) {
    TempDir tmp;
    std::mt19937 rng(14);
    lxcri::MappingStore initial(tmp / "state");
    for (lxcri::Vmid i = 0; i < 4; ++i) initial.begin().put("c" + std::to_string(i), {200 + i, "lxc", ""});
    for (int round = 0; round < 300; ++round) {
        pid_t pid = ::fork();
        BOOST_REQUIRE(pid >= 0);
        if (pid == 0) {
            try {
                lxcri::MappingStore store(tmp / "state");
                for (unsigned i = 0;; ++i) {
                    std::string id = "c" + std::to_string(i % 4);
                    auto saved = store.begin().save(id);
                    {
                        auto t = store.begin();
                        lxcri::Vmid vmid = 100 + (round + i * 7) % 20;
                        for (auto o = t.owner(vmid); o && *o != id; o = t.owner(vmid)) vmid = 100 + (vmid - 99) % 20;
                        t.put(id, {vmid, i % 2 ? "lxc" : "dry-run", std::to_string(i)});
                    }
                    if (i % 3 == 0) store.begin().restore(id, saved);
                    if (i % 5 == 0) store.begin().erase(id);
                }
            } catch (...) {
                _exit(1);
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(100, 10000)(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status), "the child ended by itself: status " << status);
        lxcri::MappingStore store(tmp / "state");
        lxcri::Mapping mapping;
        BOOST_REQUIRE_NO_THROW(mapping = store.read());
        BOOST_CHECK_LE(mapping.size(), 4u);
        // Nothing but the entries and their claims is left.
        size_t claims = 0;
        for (const auto& e : fs::directory_iterator(tmp / "state" / "mapping")) {
            std::string name = e.path().filename();
            BOOST_CHECK_MESSAGE(!name.starts_with("."), "left: " << e.path());
            if (!name.starts_with("@")) continue;
            ++claims;
            std::string id = fs::read_symlink(e.path());
            BOOST_CHECK_MESSAGE(mapping.count(id) && "@" + std::to_string(mapping.at(id).vmid) == name,
                                "a claim that counts for nothing: " << e.path() << " -> " << id);
        }
        BOOST_CHECK_EQUAL(claims, mapping.size());
    }
}
