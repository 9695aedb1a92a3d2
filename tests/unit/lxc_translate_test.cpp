#define BOOST_TEST_MODULE lxc_translate
#include <boost/test/unit_test.hpp>

#include "oci/parser.hpp"
#include "pct_plan.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/lxc_config.hpp>

#include <boost/json.hpp>

#include <mntent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;

using lxcri::CgroupVersion;
using lxcri::Errc;
using lxcri::Error;
using lxcri::LxcConfig;
using lxcri::TranslateOptions;

namespace {

const fs::path fixtures = fs::path(LXCRI_FIXTURES_DIR) / "lxc";

// Makes what <case>/bundle.txt lists: "dir P", "file P" or "link P TARGET".
void make_bundle(const fs::path& bundle, const fs::path& description) {
    std::istringstream lines(lxcri::test::read_text(description));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string kind, path, target;
        words >> kind >> path >> target;
        if (kind.empty() || kind.front() == '#') continue;
        fs::create_directories((bundle / path).parent_path());
        if (kind == "dir")
            fs::create_directories(bundle / path);
        else if (kind == "file")
            lxcri::test::write_text(bundle / path, "");
        else if (kind == "link")
            fs::create_symlink(target, bundle / path);
        else
            BOOST_FAIL("bad line in " << description << ": " << line);
    }
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

struct Variant {
    const char* name;
    CgroupVersion cgroups;
    bool pct;
};
const Variant variants[] = {{"v1", CgroupVersion::v1, false}, {"v2", CgroupVersion::v2, false},
                            {"pct", CgroupVersion::v1, true}};  // pct is v2 whatever the host has

TranslateOptions options_for(const fs::path& bundle, const Variant& variant) {
    TranslateOptions options;
    options.bundle = bundle;
    options.cgroup_version = variant.cgroups;
    if (variant.pct) options.target = lxcri::pct_target_policy();
    return options;
}

// The translation of <case>/config.json as config text, with the bundle
// written as $BUNDLE, or the error's message.
struct Outcome {
    std::string text;
    bool error = false;
};

Outcome translate_case(const std::string& name, const Variant& variant) {
    lxcri::test::TempDir bundle;
    make_bundle(bundle.path(), fixtures / name / "bundle.txt");
    fs::copy_file(fixtures / name / "config.json", bundle / "config.json");
    auto spec = lxcri::oci::load_bundle_config(bundle.path());
    try {
        auto text = lxcri::to_config_text(lxcri::translate(spec, options_for(bundle.path(), variant)));
        return {replace_all(text, bundle.path().string(), "$BUNDLE"), false};
    } catch (const Error& e) {
        return {std::string(e.what()) + "\n", true};
    }
}

// Compares with <case>/expected-<variant>.conf, or .error when the
// translation must fail. LXCRI_UPDATE_GOLDEN=1 rewrites them instead.
void check_golden(const std::string& name) {
    for (const auto& variant : variants) {
        BOOST_TEST_CONTEXT(name << " " << variant.name) {
            auto outcome = translate_case(name, variant);
            auto base = fixtures / name / (std::string("expected-") + variant.name);
            fs::path conf = base.string() + ".conf", error = base.string() + ".error";
            if (std::getenv("LXCRI_UPDATE_GOLDEN")) {
                fs::remove(conf);
                fs::remove(error);
                lxcri::test::write_text(outcome.error ? error : conf, outcome.text);
                continue;
            }
            BOOST_TEST_REQUIRE(fs::exists(outcome.error ? error : conf),
                               (outcome.error ? "unexpected error: " : "unexpected success: ") << outcome.text);
            BOOST_TEST(outcome.text == lxcri::test::read_text(outcome.error ? error : conf));
        }
    }
}

// A bundle with the minimal (runc spec) config, to break one part at a time.
class Bundle {
public:
    Bundle() {
        make_bundle(dir_.path(), fixtures / "minimal" / "bundle.txt");
        config_ = lxcri::parse_json(lxcri::test::read_text(fixtures / "minimal" / "config.json"), "config.json")
                      .as_object();
        // A writable rootfs, so that mount targets need not exist.
        config_["root"].as_object()["readonly"] = false;
    }

    json::object& config() { return config_; }
    json::object& linux_spec() { return config_["linux"].as_object(); }
    json::array& mounts() { return config_["mounts"].as_array(); }
    json::array& namespaces() { return linux_spec()["namespaces"].as_array(); }
    const fs::path& path() const { return dir_.path(); }

    // Drops the namespace of `type` from linux.namespaces.
    void drop_namespace(std::string_view type) {
        auto& list = namespaces();
        for (auto it = list.begin(); it != list.end();)
            it = it->as_object().at("type").as_string() == type ? list.erase(it) : it + 1;
    }

    LxcConfig translate(CgroupVersion cgroups = CgroupVersion::v2, bool pct = false) {
        lxcri::test::write_text(dir_ / "config.json", json::serialize(config_));
        auto spec = lxcri::oci::load_bundle_config(dir_.path());
        auto options = options_for(dir_.path(), {"", cgroups, pct});
        if (!helper_setup_) options.target.init_setup = false;
        return lxcri::translate(spec, options);
    }

    // A target whose init helper does not finish the container
    // (TargetPolicy::init_setup off): liblxc makes devices, readonly and
    // masked paths from mount entries.
    Bundle& without_helper_setup() {
        helper_setup_ = false;
        return *this;
    }

    // The message of the error translate() throws ("" when it does not).
    std::string error(CgroupVersion cgroups = CgroupVersion::v2, bool pct = false) {
        try {
            translate(cgroups, pct);
        } catch (const Error& e) {
            BOOST_TEST((e.code() == Errc::invalid_input));
            return e.what();
        }
        return "";
    }

    std::string pct_error() { return error(CgroupVersion::v2, true); }

    // The values of `key`, in order.
    std::vector<std::string> values(const std::string& key, CgroupVersion cgroups = CgroupVersion::v2) {
        std::vector<std::string> out;
        for (const auto& [k, v] : translate(cgroups)) if (k == key) out.push_back(v);
        return out;
    }

private:
    lxcri::test::TempDir dir_;
    json::object config_;
    bool helper_setup_ = true;
};

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Expects an error whose message starts with `prefix` (the field's path).
#define EXPECT_ERROR(message, prefix)                                        \
    do {                                                                     \
        auto got_ = (message);                                               \
        BOOST_TEST(starts_with(got_, prefix), "error was: \"" << got_ << "\""); \
    } while (0)

json::value mount(const char* destination, const char* type, const char* source, json::array options = {}) {
    return json::object{{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

}  // namespace

// ---- golden files ------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(golden)

BOOST_AUTO_TEST_CASE(minimal_runc_spec) { check_golden("minimal"); }
BOOST_AUTO_TEST_CASE(rich) { check_golden("rich"); }
BOOST_AUTO_TEST_CASE(rich_for_pct) { check_golden("rich-pct"); }

BOOST_AUTO_TEST_SUITE_END()

// ---- how things are translated ---------------------------------------------------------

BOOST_AUTO_TEST_SUITE(translation)

BOOST_AUTO_TEST_CASE(config_text_is_key_equals_value_lines) {
    LxcConfig config{{"lxc.uts.name", "a"}, {"lxc.mount.entry", "proc proc proc defaults 0 0"}};
    BOOST_TEST(lxcri::to_config_text(config) == "lxc.uts.name = a\nlxc.mount.entry = proc proc proc defaults 0 0\n");
    BOOST_CHECK_THROW(lxcri::to_config_text({{"lxc.uts.name", "a\nlxc.rootfs.path = /"}}), Error);
}

// The one fstab escaper: getmntent(3), which LXC reads its mount entries
// with, turns \040, \011, \012 and \134 back into the characters.
BOOST_AUTO_TEST_CASE(mount_entries_escape_as_getmntent_reads) {
    BOOST_TEST(lxcri::mount_entry("/a b\tc\nd\\e", "x y", "none", {"bind", "ro"}) ==
               "/a\\040b\\011c\\012d\\134e x\\040y none bind,ro 0 0");
    BOOST_TEST(lxcri::mount_entry("tmpfs", "tmp", "tmpfs", {}) == "tmpfs tmp tmpfs defaults 0 0");
    lxcri::test::TempDir dir;
    lxcri::test::write_text(dir / "fstab", lxcri::mount_entry("/a b\tc\nd\\e", "x", "none", {"bind"}) + "\n");
    FILE* file = ::setmntent((dir / "fstab").c_str(), "r");
    BOOST_REQUIRE(file);
    mntent* entry = ::getmntent(file);
    BOOST_TEST_REQUIRE(entry);
    BOOST_TEST(std::string(entry->mnt_fsname) == "/a b\tc\nd\\e");
    BOOST_TEST(std::string(entry->mnt_opts) == "bind");
    ::endmntent(file);
}

BOOST_AUTO_TEST_CASE(cgroup_version_follows_the_file_system_type) {
    auto version = lxcri::detect_cgroup_version();
    bool unified = fs::exists("/sys/fs/cgroup/cgroup.controllers");
    BOOST_TEST((version == (unified ? CgroupVersion::v2 : CgroupVersion::v1)));
}

BOOST_AUTO_TEST_CASE(destinations_resolve_symlinks_inside_the_rootfs) {
    Bundle b;
    fs::create_directories(b.path() / "rootfs/etc");
    fs::create_directories(b.path() / "src");
    // Absolute and escaping links are taken as if the rootfs were "/".
    fs::create_symlink("/../../../../etc", b.path() / "rootfs/escape");
    fs::create_symlink("../../..", b.path() / "rootfs/up");
    b.mounts().push_back(mount("/escape/a", "bind", "src"));
    b.mounts().push_back(mount("/up/up/b", "bind", "src"));
    b.mounts().push_back(mount("/../../c", "bind", "src"));
    auto entries = b.values("lxc.mount.entry");
    auto src = (b.path() / "src").string();
    BOOST_TEST(std::count(entries.begin(), entries.end(), src + " etc/a none rbind,create=dir 0 0") == 1);
    BOOST_TEST(std::count(entries.begin(), entries.end(), src + " b none rbind,create=dir 0 0") == 1);
    BOOST_TEST(std::count(entries.begin(), entries.end(), src + " c none rbind,create=dir 0 0") == 1);
}

BOOST_AUTO_TEST_CASE(destinations_below_a_mount_are_not_looked_up_in_the_rootfs) {
    Bundle b;
    // /dev is a tmpfs in the container; a symlink under rootfs/dev is hidden.
    fs::create_symlink("/etc", b.path() / "rootfs/dev/shm2");
    b.mounts().push_back(mount("/dev/shm2", "tmpfs", "tmpfs"));
    auto entries = b.values("lxc.mount.entry");
    BOOST_TEST(std::count(entries.begin(), entries.end(), "tmpfs dev/shm2 tmpfs create=dir 0 0") == 1);
}

BOOST_AUTO_TEST_CASE(file_sources_get_create_file) {
    Bundle b;
    lxcri::test::write_text(b.path() / "hosts", "");
    fs::create_directories(b.path() / "rootfs/etc");
    lxcri::test::write_text(b.path() / "rootfs/etc/hosts", "");
    b.mounts().push_back(mount("/etc/hosts", "bind", "hosts", {"bind", "ro"}));
    auto entries = b.values("lxc.mount.entry");
    BOOST_TEST(std::count(entries.begin(), entries.end(),
                          (b.path() / "hosts").string() + " etc/hosts none bind,ro,create=file 0 0") == 1);
}

BOOST_AUTO_TEST_CASE(host_network_is_kept) {
    Bundle b;
    b.drop_namespace("network");
    BOOST_TEST(b.values("lxc.namespace.clone") == std::vector<std::string>{"pid ipc uts mnt"});
    BOOST_TEST(b.values("lxc.net.0.type").empty());
    auto pct = b.translate(CgroupVersion::v2, true);
    BOOST_TEST((std::count_if(pct.begin(), pct.end(), [](const auto& k) {
                    return k.key == "lxc.net.0.type" && k.value == "none";
                }) == 1));
}

// The rootfs is idmapped when the mappings do not give the container its
// owner (the user running the test); one owned by mapped ids is used as it
// is. The pct target mounts the rootfs itself.
BOOST_AUTO_TEST_CASE(rootfs_is_idmapped_unless_its_owner_is_mapped) {
    Bundle b;
    b.namespaces().push_back(json::object{{"type", "user"}});
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat((b.path() / "rootfs").c_str(), &st) == 0);
    // Container root is host id `uid` (`gid`), and no other id is mapped.
    auto map_root_to = [&](std::uint32_t uid, std::uint32_t gid) {
        b.linux_spec()["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", uid}, {"size", 1}}};
        b.linux_spec()["gidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", gid}, {"size", 1}}};
    };
    map_root_to(st.st_uid + 1, st.st_gid);
    BOOST_TEST(b.values("lxc.rootfs.options") == std::vector<std::string>{"idmap=container"});
    map_root_to(st.st_uid, st.st_gid + 1);
    BOOST_TEST(b.values("lxc.rootfs.options") == std::vector<std::string>{"idmap=container"});
    b.config()["root"].as_object()["readonly"] = true;
    BOOST_TEST(b.values("lxc.rootfs.options") == std::vector<std::string>{"ro,idmap=container"});
    auto pct = b.translate(CgroupVersion::v2, true);
    BOOST_TEST(std::none_of(pct.begin(), pct.end(), [](const auto& k) { return k.key == "lxc.rootfs.options"; }));
    map_root_to(st.st_uid, st.st_gid);
    BOOST_TEST(b.values("lxc.rootfs.options") == std::vector<std::string>{"ro"});
}

BOOST_AUTO_TEST_CASE(cgroups_path_places_the_container_exactly) {
    Bundle b;
    b.linux_spec()["cgroupsPath"] = "/libpod_parent/libpod-abc";
    BOOST_TEST(b.values("lxc.cgroup.dir.container") == std::vector<std::string>{"libpod_parent/libpod-abc"});
    BOOST_TEST(b.values("lxc.cgroup.dir.monitor") == std::vector<std::string>{"libpod_parent/lxc.monitor.libpod-abc"});
    BOOST_TEST(b.values("lxc.cgroup.relative").empty());
    b.linux_spec()["cgroupsPath"] = "sub/c1";
    BOOST_TEST(b.values("lxc.cgroup.relative") == std::vector<std::string>{"1"});
}

BOOST_AUTO_TEST_CASE(v2_conversions_follow_runc) {
    Bundle b;
    b.linux_spec()["resources"].as_object()["cpu"] = json::object{{"shares", 1024}, {"quota", -1}};
    b.linux_spec()["resources"].as_object()["memory"] = json::object{{"limit", -1}, {"swap", -1}};
    BOOST_TEST(b.values("lxc.cgroup2.cpu.weight") == std::vector<std::string>{"39"});
    BOOST_TEST(b.values("lxc.cgroup2.cpu.max") == std::vector<std::string>{"max"});
    BOOST_TEST(b.values("lxc.cgroup2.memory.max") == std::vector<std::string>{"max"});
    BOOST_TEST(b.values("lxc.cgroup2.memory.swap.max") == std::vector<std::string>{"max"});
}

BOOST_AUTO_TEST_CASE(host_devices_are_found_by_number) {
    Bundle b;
    b.without_helper_setup();
    b.linux_spec()["devices"] = json::array{json::object{{"type", "c"}, {"path", "/dev/zero-in-container"},
                                                         {"major", 1}, {"minor", 5}}};
    auto entries = b.values("lxc.mount.entry");
    BOOST_TEST(std::count(entries.begin(), entries.end(),
                          "/dev/zero dev/zero-in-container none bind,create=file 0 0") == 1);
    auto allowed = b.values("lxc.cgroup2.devices.allow");
    BOOST_TEST(allowed.back() == "c 1:5 rwm");
}

BOOST_AUTO_TEST_CASE(masked_paths_get_one_entry_when_the_type_is_known) {
    Bundle b;
    b.without_helper_setup();
    fs::create_directories(b.path() / "rootfs/etc/secret-dir");
    lxcri::test::write_text(b.path() / "rootfs/etc/secret-file", "");
    b.linux_spec()["maskedPaths"] =
        json::array{"/etc/secret-dir", "/etc/secret-file", "/etc/missing", "/proc/kcore", "/proc/unknown"};
    auto entries = b.values("lxc.mount.entry");
    auto masked = std::vector<std::string>(entries.end() - 5, entries.end());
    BOOST_TEST(masked == (std::vector<std::string>{
                             "tmpfs etc/secret-dir tmpfs ro,optional 0 0",
                             "/dev/null etc/secret-file none bind,optional 0 0",
                             "/dev/null proc/kcore none bind,optional 0 0",
                             // Unknown below a mount: both, one of them fails.
                             "tmpfs proc/unknown tmpfs ro,optional 0 0",
                             "/dev/null proc/unknown none bind,optional 0 0",
                         }),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sysctl_files_stay_writable_under_a_read_only_proc_sys) {
    Bundle b;  // runc's readonlyPaths has /proc/sys
    b.without_helper_setup();
    b.linux_spec()["sysctl"] = json::object{{"kernel.shmmax", "1"}};
    auto entries = b.values("lxc.mount.entry");
    auto self_bind = std::find(entries.begin(), entries.end(),
                               "proc/sys/kernel/shmmax proc/sys/kernel/shmmax none bind,relative,optional 0 0");
    auto read_only = std::find(entries.begin(), entries.end(),
                               "proc/sys proc/sys none rbind,ro,relative,optional 0 0");
    BOOST_TEST_REQUIRE((self_bind != entries.end() && read_only != entries.end()));
    BOOST_TEST((self_bind < read_only));
    BOOST_TEST(b.values("lxc.sysctl.kernel.shmmax") == std::vector<std::string>{"1"});
}

BOOST_AUTO_TEST_CASE(zero_limits_are_unset_as_with_runc) {
    Bundle b;
    b.linux_spec()["resources"].as_object()["memory"] = json::object{{"limit", 0}, {"swap", 0}};
    b.linux_spec()["resources"].as_object()["cpu"] = json::object{{"shares", 0}, {"quota", 0}, {"period", 0}};
    for (auto version : {CgroupVersion::v1, CgroupVersion::v2})
        for (const auto& [key, value] : b.translate(version))
            BOOST_TEST((key.find("memory") == std::string::npos && key.find("cpu.") == std::string::npos), key);
}

BOOST_AUTO_TEST_CASE(no_device_rules_leave_the_device_cgroup_open) {
    Bundle b;
    b.linux_spec()["resources"].as_object().erase("devices");
    BOOST_TEST(b.values("lxc.cgroup2.devices.allow").empty());
    BOOST_TEST(b.values("lxc.cgroup2.devices.deny").empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- what cannot be applied: each error names its field ---------------------------------------

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(root) {
    Bundle b;
    b.config()["root"].as_object()["path"] = "missing";
    EXPECT_ERROR(b.error(), "root.path: ");
}

BOOST_AUTO_TEST_CASE(bind_source_must_exist) {
    Bundle b;
    b.mounts().push_back(mount("/data", "bind", "/nonexistent/source", {"rbind"}));
    EXPECT_ERROR(b.error(), "mounts[7].source: /nonexistent/source: ");
}

BOOST_AUTO_TEST_CASE(read_only_rootfs_needs_existing_destinations) {
    Bundle b;
    b.config()["root"].as_object()["readonly"] = true;
    fs::create_directories(b.path() / "src");
    b.mounts().push_back(mount("/data", "bind", "src"));
    EXPECT_ERROR(b.error(), "mounts[7].destination: does not exist in the read-only rootfs");
    fs::create_directories(b.path() / "rootfs/data");
    BOOST_TEST(b.error() == "");
}

// podman --read-only asks for tmpcopyup on /tmp, /var/tmp and /run.
BOOST_AUTO_TEST_CASE(tmpcopyup_only_where_there_is_nothing_to_copy) {
    Bundle b;
    b.mounts().push_back(mount("/scratch", "tmpfs", "tmpfs", {"nosuid", "tmpcopyup"}));
    BOOST_TEST(b.error() == "");
    fs::create_directories(b.path() / "rootfs/scratch");
    BOOST_TEST(b.error() == "");
    std::ofstream(b.path() / "rootfs/scratch/file") << "x";
    EXPECT_ERROR(b.error(), "mounts[7].options[1]: \"tmpcopyup\" cannot be applied: /scratch is not empty");
}

BOOST_AUTO_TEST_CASE(mount_options_lxc_would_ignore) {
    for (const char* option : {"rro", "nosymfollow", "sync", "create=dir", "optional"}) {
        Bundle b;
        b.mounts().push_back(mount("/dev/x", "tmpfs", "tmpfs", {"nosuid", option}));
        BOOST_TEST_CONTEXT(option) { EXPECT_ERROR(b.error(), "mounts[7].options[1]: \""); }
    }
    // Propagation: the helper sets every kind once liblxc is done; liblxc
    // alone keeps only private and slave.
    for (const char* option : {"shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable",
                               "runbindable"}) {
        Bundle b;
        b.mounts().push_back(mount("/dev/x", "tmpfs", "tmpfs", {"nosuid", option}));
        BOOST_TEST_CONTEXT(option) {
            BOOST_TEST(b.error() == "");
            auto entries = b.values("lxc.mount.entry");
            BOOST_TEST(std::ranges::count(entries, "tmpfs dev/x tmpfs nosuid,create=dir 0 0") == 1);
            bool kept = std::string_view(option).find("shared") == std::string_view::npos &&
                        std::string_view(option).find("unbindable") == std::string_view::npos;
            b.without_helper_setup();
            if (kept) BOOST_TEST(b.error() == "");
            else EXPECT_ERROR(b.error(), "mounts[7].options[1]: \"");
        }
    }
}

BOOST_AUTO_TEST_CASE(mounts) {
    {
        Bundle b;
        b.mounts().push_back(mount("/", "tmpfs", "tmpfs"));
        EXPECT_ERROR(b.error(), "mounts[7].destination: mounting over /");
    }
    {
        Bundle b;
        b.mounts().push_back(mount("/dev/x", "", "none"));
        EXPECT_ERROR(b.error(), "mounts[7].type: ");
    }
    {
        Bundle b;
        b.mounts().push_back(mount("/sys/fs/cgroup/x", "tmpfs", "tmpfs"));
        EXPECT_ERROR(b.error(), "mounts[7].destination: lies under /sys/fs/cgroup");
    }
    {
        Bundle b;  // liblxc's own devpts has fixed options; the spec's is an entry
        b.mounts().at(2).as_object()["options"].as_array().push_back("mode=0600");
        BOOST_TEST(b.error() == "");
        EXPECT_ERROR(b.without_helper_setup().error(), "mounts[2].options[6]: \"mode=0600\" cannot be applied");
    }
    {
        Bundle b;
        b.mounts().at(1).as_object()["destination"] = "/devices";
        fs::create_directories(b.path() / "rootfs/devices");
        BOOST_TEST(b.error() == "");  // as runc: the helper makes the nodes in the rootfs's /dev
        EXPECT_ERROR(b.without_helper_setup().error(), "mounts: has no mount at /dev");
    }
    {
        Bundle b;
        b.mounts().at(0).as_object()["uidMappings"] =
            json::array{json::object{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
        b.mounts().at(0).as_object()["gidMappings"] = b.mounts().at(0).as_object()["uidMappings"];
        EXPECT_ERROR(b.error(), "mounts[0].uidMappings: ");
    }
}

BOOST_AUTO_TEST_CASE(namespaces) {
    {
        Bundle b;
        b.drop_namespace("mount");
        EXPECT_ERROR(b.error(), "linux.namespaces: LXC needs a new mount namespace");
    }
    {
        Bundle b;
        b.namespaces().push_back(json::object{{"type", "user"}});
        EXPECT_ERROR(b.error(), "linux.uidMappings: ");
    }
    {
        Bundle b;
        b.linux_spec()["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
        b.linux_spec()["gidMappings"] = b.linux_spec()["uidMappings"];
        EXPECT_ERROR(b.error(), "linux.uidMappings: needs a new user namespace");
    }
    {
        Bundle b;
        b.namespaces().at(1).as_object()["path"] = "/nonexistent/ns/net";
        EXPECT_ERROR(b.error(), "linux.namespaces[1].path: /nonexistent/ns/net: ");
    }
    {
        Bundle b;
        b.drop_namespace("uts");
        EXPECT_ERROR(b.error(), "hostname: needs a new UTS namespace");
    }
    {
        Bundle b;
        b.linux_spec()["timeOffsets"] = json::object{{"boottime", json::object{{"secs", 1}}}};
        EXPECT_ERROR(b.error(), "linux.timeOffsets: ");
    }
}

BOOST_AUTO_TEST_CASE(sysctl_must_stay_in_the_container) {
    {
        Bundle b;
        b.linux_spec()["sysctl"] = json::object{{"kernel.panic", "1"}};
        EXPECT_ERROR(b.error(), "linux.sysctl[\"kernel.panic\"]: is not namespaced");
    }
    {
        Bundle b;
        b.drop_namespace("network");
        b.linux_spec()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
        EXPECT_ERROR(b.error(), "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a network namespace");
    }
    {
        Bundle b;
        b.linux_spec()["sysctl"] = json::object{{"kernel.hostname", "x"}};
        EXPECT_ERROR(b.error(), "linux.sysctl[\"kernel.hostname\"]: ");
    }
}

BOOST_AUTO_TEST_CASE(resources) {
    auto memory_error = [](json::object memory, CgroupVersion version) {
        Bundle b;
        b.linux_spec()["resources"].as_object()["memory"] = std::move(memory);
        return b.error(version);
    };
    EXPECT_ERROR(memory_error({{"kernel", 1000000}}, CgroupVersion::v1), "linux.resources.memory.kernel: ");
    EXPECT_ERROR(memory_error({{"swappiness", 10}}, CgroupVersion::v2), "linux.resources.memory.swappiness: ");
    EXPECT_ERROR(memory_error({{"limit", 2000}, {"swap", 1000}}, CgroupVersion::v2), "linux.resources.memory.swap: ");
    EXPECT_ERROR(memory_error({{"swap", 1000}}, CgroupVersion::v2), "linux.resources.memory.swap: ");
    EXPECT_ERROR(memory_error({{"useHierarchy", false}}, CgroupVersion::v1), "linux.resources.memory.useHierarchy: ");
    BOOST_TEST(memory_error({{"swappiness", 10}}, CgroupVersion::v1) == "");

    Bundle b;
    b.linux_spec()["resources"].as_object()["unified"] = json::object{{"memory.high", "1000000"}};
    EXPECT_ERROR(b.error(CgroupVersion::v1), "linux.resources.unified[\"memory.high\"]: needs a cgroup v2 host");
    BOOST_TEST(b.error(CgroupVersion::v2) == "");

    Bundle rt;
    rt.linux_spec()["resources"].as_object()["cpu"] = json::object{{"realtimeRuntime", 1000}};
    EXPECT_ERROR(rt.error(CgroupVersion::v2), "linux.resources.cpu.realtimeRuntime: ");

    Bundle net;
    net.linux_spec()["resources"].as_object()["network"] = json::object{{"classID", 1}};
    EXPECT_ERROR(net.error(CgroupVersion::v2), "linux.resources.network: ");

    Bundle leaf;
    leaf.linux_spec()["resources"].as_object()["blockIO"] = json::object{{"leafWeight", 100}};
    EXPECT_ERROR(leaf.error(CgroupVersion::v1), "linux.resources.blockIO.leafWeight: ");
}

BOOST_AUTO_TEST_CASE(cgroups_path) {
    Bundle b;
    b.linux_spec()["cgroupsPath"] = "machine.slice:libpod:abc";
    EXPECT_ERROR(b.error(), "linux.cgroupsPath: systemd cgroup paths");
    b.linux_spec()["cgroupsPath"] = "/a/../b";
    EXPECT_ERROR(b.error(), "linux.cgroupsPath: ");
    b.linux_spec()["cgroupsPath"] = "/";
    EXPECT_ERROR(b.error(), "linux.cgroupsPath: ");
}

BOOST_AUTO_TEST_CASE(devices) {
    // The helper makes every node (mknod): none is an entry, whatever the host has.
    for (const char* type : {"p", "c"}) {
        Bundle b;  // 4095:4095 is no device anyone has
        b.linux_spec()["devices"] = json::array{json::object{
            {"type", type}, {"path", "/dev/nothing"}, {"major", 4095}, {"minor", 4095}, {"fileMode", 0600}}};
        BOOST_TEST(b.error() == "");
        for (const auto& entry : b.values("lxc.mount.entry")) BOOST_TEST(entry.find("dev/nothing") == std::string::npos);
    }
    // In a new user namespace mknod is refused: host nodes are bound.
    {
        Bundle b;
        b.namespaces().push_back(json::object{{"type", "user"}});
        b.linux_spec()["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        b.linux_spec()["gidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        auto entries = b.values("lxc.mount.entry");
        BOOST_TEST(std::ranges::count(entries, "/dev/null dev/null none bind,create=file 0 0") == 1);
        BOOST_TEST(std::ranges::count(entries, "/dev/tty dev/tty none bind,create=file 0 0") == 1);
        b.linux_spec()["devices"] =
            json::array{json::object{{"type", "c"}, {"path", "/dev/nothing"}, {"major", 4095}, {"minor", 4095}}};
        EXPECT_ERROR(b.error(), "linux.devices[0]: there is no host device node c 4095:4095");
    }
    {
        Bundle b;
        b.without_helper_setup();
        b.linux_spec()["devices"] = json::array{json::object{{"type", "p"}, {"path", "/dev/fifo"}}};
        EXPECT_ERROR(b.error(), "linux.devices[0].type: ");
    }
    {
        Bundle b;  // 4095:4095 is no device anyone has
        b.without_helper_setup();
        b.linux_spec()["devices"] =
            json::array{json::object{{"type", "c"}, {"path", "/dev/nothing"}, {"major", 4095}, {"minor", 4095}}};
        EXPECT_ERROR(b.error(), "linux.devices[0]: there is no host device node c 4095:4095");
    }
    {
        Bundle b;  // /dev/null is 0666 everywhere
        b.without_helper_setup();
        b.linux_spec()["devices"] = json::array{
            json::object{{"type", "c"}, {"path", "/dev/null"}, {"major", 1}, {"minor", 3}, {"fileMode", 0600}}};
        EXPECT_ERROR(b.error(), "linux.devices[0].fileMode: is 0600 but the host node /dev/null is 0666");
    }
}

BOOST_AUTO_TEST_CASE(other_sections) {
    {
        Bundle b;  // the helper sets it; liblxc alone cannot
        b.linux_spec()["rootfsPropagation"] = "shared";
        BOOST_TEST(b.error() == "");
        BOOST_TEST(b.values("lxc.rootfs.options").empty());
        EXPECT_ERROR(b.without_helper_setup().error(), "linux.rootfsPropagation: \"shared\" cannot be applied");
    }
    {
        Bundle b;
        b.linux_spec()["intelRdt"] = json::object{{"closID", "x"}};
        EXPECT_ERROR(b.error(), "linux.intelRdt: ");
    }
    {
        Bundle b;
        b.linux_spec()["mountLabel"] = "system_u:object_r:container_file_t:s0";
        EXPECT_ERROR(b.error(), "linux.mountLabel: ");
    }
    {
        Bundle b;
        b.linux_spec()["personality"] = json::object{{"domain", "LINUX"}, {"flags", json::array{"ADDR_NO_RANDOMIZE"}}};
        EXPECT_ERROR(b.error(), "linux.personality.flags: ");
    }
}

BOOST_AUTO_TEST_CASE(what_proxmox_forbids) {
    {
        Bundle b;
        b.namespaces().at(1).as_object()["path"] = "/proc/self/ns/net";
        EXPECT_ERROR(b.pct_error(), "linux.namespaces[1].path: Proxmox does not allow");
    }
    {
        Bundle b;
        b.drop_namespace("pid");
        EXPECT_ERROR(b.pct_error(), "linux.namespaces: pct always creates a new pid namespace");
    }
    {
        Bundle b;
        b.namespaces().push_back(json::object{{"type", "time"}});
        EXPECT_ERROR(b.pct_error(), "linux.namespaces[5].type: ");
    }
    {
        Bundle b;
        b.linux_spec()["cgroupsPath"] = "/libpod_parent/libpod-abc";
        EXPECT_ERROR(b.pct_error(), "linux.cgroupsPath: ");
    }
    {
        Bundle b;
        b.linux_spec()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
        EXPECT_ERROR(b.pct_error(), "linux.sysctl[\"net.ipv4.ip_forward\"]: Proxmox allows only the IPC sysctls");
    }
    {
        Bundle b;
        b.linux_spec()["rootfsPropagation"] = "rprivate";
        EXPECT_ERROR(b.pct_error(), "linux.rootfsPropagation: ");
        BOOST_TEST(b.error() == "");
    }
}

BOOST_AUTO_TEST_SUITE_END()
