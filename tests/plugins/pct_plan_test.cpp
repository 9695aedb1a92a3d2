#define BOOST_TEST_MODULE pct_plan
#include <boost/test/unit_test.hpp>

#include "oci/parser.hpp"
#include "pct_plan.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <functional>

// The pct plan builder (plugins/backend-pct/pct_plan.cpp), case by case; the golden
// files of a whole bundle are checked through the backend in
// pct_backend_root_test.cpp. No root needed.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::TempDir;
using lxcri::test::write_text;

namespace {

struct Bundle {
    TempDir tmp;
    fs::path dir = tmp / "bundle";
    json::object doc{
        {"ociVersion", "1.2.0"},
        {"process", {{"args", json::array{"/bin/sh"}}, {"cwd", "/"}, {"env", json::array{"PATH=/bin"}}}},
        {"root", {{"path", "rootfs"}}},
        {"mounts", json::array{json::object{{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}}}},
        {"linux", {{"namespaces", json::array{json::object{{"type", "pid"}}, json::object{{"type", "network"}},
                                              json::object{{"type", "ipc"}}, json::object{{"type", "uts"}},
                                              json::object{{"type", "mount"}}}}}},
    };

    Bundle() {
        fs::create_directories(dir / "rootfs" / "dev");
        fs::create_directories(dir / "rootfs" / "var");
        fs::create_directory_symlink("../run", dir / "rootfs" / "var" / "run");
        fs::create_directories(dir / "data");
    }

    json::object& process() { return doc["process"].as_object(); }
    json::object& linux_() { return doc["linux"].as_object(); }
    json::array& mounts() { return doc["mounts"].as_array(); }
    void add_mount(const std::string& destination, const std::string& source, json::array options,
                   const std::string& type = "bind") {
        mounts().push_back(json::object{{"destination", destination}, {"type", type}, {"source", source}, {"options", options}});
    }
    void add_user_namespace(std::uint32_t host_id) {
        linux_()["namespaces"].as_array().push_back(json::object{{"type", "user"}});
        json::array map{json::object{{"containerID", 0}, {"hostID", host_id}, {"size", 65536}}};
        linux_()["uidMappings"] = map;
        linux_()["gidMappings"] = map;
    }

    lxcri::PctPlan plan(const lxcri::PctSettings& settings = {}) {
        auto spec = lxcri::oci::parse_config(json::value(doc));
        return lxcri::build_pct_plan(spec, settings,
                                     {"c1", 4242, dir, "local:vztmpl/t.tar.zst", tmp / "run/c1/rt", "/usr/libexec/init"});
    }
};

// The value of `--option` in the create argv, or "" without one.
std::string option(const lxcri::PctPlan& plan, const std::string& name) {
    const auto& args = plan.create_args;
    auto it = std::find(args.begin(), args.end(), "--" + name);
    return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
}

std::vector<std::string> raw(const lxcri::PctPlan& plan, const std::string& key) {
    std::vector<std::string> values;
    for (const auto& k : plan.raw_keys)
        if (k.key == key) values.push_back(k.value);
    return values;
}

bool fails_with(const std::function<void()>& f, const std::string& text) {
    try {
        f();
    } catch (const lxcri::Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        return e.code() == lxcri::Errc::invalid_input && std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(settings_defaults_come_from_storage_cfg) {
    TempDir tmp;
    auto s = lxcri::parse_pct_settings({{"pve-dir", tmp.path().string()}});
    BOOST_TEST(s.storage == "local");
    BOOST_TEST(s.template_dir == "/var/lib/vz/template/cache");
    BOOST_TEST(s.path == "/usr/sbin/pct");
    BOOST_TEST(s.bridge == "vmbr0");
    BOOST_TEST(!s.unprivileged.has_value());
    BOOST_TEST(lxcri::pct_ostemplate(s, "t.tar.zst") == "/var/lib/vz/template/cache/t.tar.zst");

    write_text(tmp / "storage.cfg", "dir: local\n\tpath /srv/vz\n\tcontent vztmpl\n\nlvmthin: local-lvm\n\tvgname pve\n");
    s = lxcri::parse_pct_settings({{"pve-dir", tmp.path().string()}, {"template-storage", "local"},
                                   {"bridge", "none"}, {"unprivileged", "1"}, {"vmid-source", "pvesh"}, {"timeout", "5"}});
    BOOST_TEST(s.storage == "local-lvm");
    BOOST_TEST(s.template_dir == "/srv/vz/template/cache");
    BOOST_TEST(s.bridge.empty());
    BOOST_TEST(s.unprivileged.value_or(false));
    BOOST_TEST((s.vmid_source == lxcri::VmidSource::pvesh));
    BOOST_TEST(s.timeout.count() == 5);
    BOOST_TEST(lxcri::pct_ostemplate(s, "t.tar.zst") == "local:vztmpl/t.tar.zst");
}

BOOST_AUTO_TEST_CASE(settings_errors_name_the_key) {
    using Options = std::map<std::string, std::string>;
    auto parse = [](Options o) { return [o] { lxcri::parse_pct_settings(o, "pct"); }; };
    BOOST_TEST(fails_with(parse({{"rootfs_size", "8"}}), "pct.rootfs_size: unknown key"));
    BOOST_TEST(fails_with(parse({{"path", "pct"}}), "pct.path: must be an absolute path"));
    BOOST_TEST(fails_with(parse({{"timeout", "soon"}}), "pct.timeout: 'soon' is not a number of seconds"));
    BOOST_TEST(fails_with(parse({{"unprivileged", "maybe"}}), "pct.unprivileged"));
    BOOST_TEST(fails_with(parse({{"vmid-source", "dns"}}), "pct.vmid-source"));
    BOOST_TEST(fails_with(parse({{"rootfs-size", "8G"}}), "pct.rootfs-size: '8G' is not a size in GiB"));
    BOOST_TEST(fails_with(parse({{"storage", "local lvm"}}), "pct.storage"));
    BOOST_TEST(fails_with(parse({{"pve-dir", "/nonexistent"}, {"template-storage", "nas"}}), "pct.template-storage"));
    BOOST_CHECK_NO_THROW(lxcri::parse_pct_settings({{"target", "pct"}}, "dry-run", {"target"}));
}

BOOST_AUTO_TEST_CASE(what_pct_has_options_for_becomes_options) {
    Bundle b;
    b.doc["root"].as_object()["readonly"] = true;
    b.doc["hostname"] = "web-1";
    b.linux_()["resources"] = {{"memory", {{"limit", 100 * 1024 * 1024 + 1}, {"swap", -1}}},
                               {"cpu", {{"quota", 1}, {"period", 3}, {"cpus", "0-3,7"}, {"shares", 1024}}}};
    auto plan = b.plan();
    BOOST_TEST(plan.create_args[0] == "create");
    BOOST_TEST(plan.create_args[1] == "4242");
    BOOST_TEST(plan.create_args[2] == "local:vztmpl/t.tar.zst");
    BOOST_TEST(option(plan, "description") == "proxmox-lxcri container c1");
    BOOST_TEST(option(plan, "rootfs") == "local:8,ro=1");
    BOOST_TEST(option(plan, "hostname") == "web-1");
    BOOST_TEST(raw(plan, "lxc.uts.name").empty());
    BOOST_TEST(option(plan, "memory") == "101");  // rounded up to whole MiB
    BOOST_TEST(option(plan, "swap") == "");       // unlimited: Proxmox's default
    BOOST_TEST(option(plan, "cores") == "5");
    BOOST_TEST(option(plan, "cpulimit") == "0.33334");
    BOOST_TEST(option(plan, "cpuunits") == "39");  // runc's weight for 1024 shares
    BOOST_TEST(option(plan, "unprivileged") == "0");
    BOOST_TEST(option(plan, "net0") == "name=eth0,bridge=vmbr0,ip=dhcp,type=veth");
    BOOST_TEST(raw(plan, "lxc.net.0.type").empty());
    BOOST_TEST(option(plan, "mp0") == (b.tmp / "run/c1/rt").string() + ",mp=/.lxcri");
    BOOST_TEST(option(plan, "entrypoint") == "/.lxcri/init --supervise");
    BOOST_TEST(option(plan, "cmode") == "console");
    BOOST_TEST(option(plan, "features") == "");
    BOOST_TEST(raw(plan, "lxc.mount.auto").front() == "");  // clears common.conf's
    BOOST_TEST(raw(plan, "lxc.environment.runtime") == std::vector<std::string>{"PATH=/bin"});
}

BOOST_AUTO_TEST_CASE(networking_follows_the_network_namespace_and_the_bridge) {
    Bundle host_net;
    auto& ns = host_net.linux_()["namespaces"].as_array();
    ns.erase(ns.begin() + 1);  // no network namespace: the host's
    auto plan = host_net.plan();
    BOOST_TEST(option(plan, "net0") == "");
    BOOST_TEST(raw(plan, "lxc.net.0.type") == std::vector<std::string>{"none"});

    Bundle no_bridge;
    lxcri::PctSettings settings;
    settings.bridge.clear();
    plan = no_bridge.plan(settings);
    BOOST_TEST(option(plan, "net0") == "");
    BOOST_TEST(raw(plan, "lxc.net.0.type") == std::vector<std::string>{"empty"});  // loopback only, as runc
}

BOOST_AUTO_TEST_CASE(a_hostname_pct_refuses_stays_a_raw_key) {
    Bundle b;
    b.doc["hostname"] = "under_score";
    auto plan = b.plan();
    BOOST_TEST(option(plan, "hostname") == "");
    BOOST_TEST(raw(plan, "lxc.uts.name") == std::vector<std::string>{"under_score"});
}

BOOST_AUTO_TEST_CASE(user_namespaces_and_unprivileged) {
    Bundle proxmox_map;
    proxmox_map.add_user_namespace(100000);
    auto plan = proxmox_map.plan();
    BOOST_TEST(option(plan, "unprivileged") == "1");
    BOOST_TEST(raw(plan, "lxc.idmap").empty());  // Proxmox's own default
    BOOST_TEST(plan.root_uid == 100000u);

    Bundle own_map;
    own_map.add_user_namespace(300000);
    plan = own_map.plan();
    BOOST_TEST(option(plan, "unprivileged") == "1");
    BOOST_TEST(raw(plan, "lxc.idmap") == (std::vector<std::string>{"u 0 300000 65536", "g 0 300000 65536"}));
    BOOST_TEST(plan.root_uid == 300000u);

    lxcri::PctSettings privileged;
    privileged.unprivileged = false;
    BOOST_TEST(fails_with([&] { own_map.plan(privileged); }, "pct.unprivileged = 0"));

    Bundle no_userns;
    lxcri::PctSettings forced;
    forced.unprivileged = true;
    plan = no_userns.plan(forced);
    BOOST_TEST(option(plan, "unprivileged") == "1");
    BOOST_TEST(plan.root_uid == 100000u);
}

BOOST_AUTO_TEST_CASE(only_bind_mounts_pct_applies_exactly_become_mount_points) {
    Bundle b;
    fs::create_directories(b.dir / "other");
    fs::create_directories(b.dir / "third");
    b.add_mount("/data", "data", {"bind", "ro", "nodev", "noexec"});          // mp0
    b.add_mount("/srv", "other", {"bind", "slave"});                          // propagation pct cannot set
    b.add_mount("/var/run/x", "third", {"bind"});                             // through a symlink
    b.add_mount("/opt", "data", {"rbind"});                                   // overlapped by the next
    b.add_mount("/opt/cache", "tmpfs", {"size=1m"}, "tmpfs");
    auto plan = b.plan();
    BOOST_TEST(option(plan, "mp0") == (b.dir / "data").string() + ",mountoptions=nodev;noexec,mp=/data,ro=1");
    BOOST_TEST(option(plan, "mp1") == (b.tmp / "run/c1/rt").string() + ",mp=/.lxcri");
    auto entries = raw(plan, "lxc.mount.entry");
    auto has = [&](const std::string& text) {
        return std::any_of(entries.begin(), entries.end(), [&](const auto& e) { return e.find(text) != std::string::npos; });
    };
    BOOST_TEST(has((b.dir / "other").string() + " srv none bind,slave"));
    BOOST_TEST(has((b.dir / "third").string() + " run/x none bind"));
    BOOST_TEST(has((b.dir / "data").string() + " opt none rbind"));
    BOOST_TEST(!has(" data none"));
}

BOOST_AUTO_TEST_CASE(features_come_from_the_spec_and_the_annotation) {
    Bundle b;
    b.process()["capabilities"] = {{"bounding", json::array{"CAP_SYS_ADMIN", "CAP_MKNOD"}}};
    b.linux_()["devices"] = json::array{json::object{{"type", "c"}, {"path", "/dev/fuse"}, {"major", 10}, {"minor", 229}}};
    b.doc["annotations"] = {{lxcri::pct_features_annotation, "keyctl,mount=nfs;cifs,nesting=0"}};
    // The device must exist on the host for the translation; /dev/fuse may not.
    if (!fs::exists("/dev/fuse")) b.linux_().erase("devices");
    auto plan = b.plan();
    std::string expected = fs::exists("/dev/fuse") ? "fuse=1,keyctl=1,mount=nfs;cifs" : "keyctl=1,mount=nfs;cifs";
    BOOST_TEST(option(plan, "features") == expected);  // nesting=0 overrides CAP_SYS_ADMIN

    b.doc["annotations"] = {{lxcri::pct_features_annotation, "docker=1"}};
    BOOST_TEST(fails_with([&] { b.plan(); }, "\"docker=1\" is not a pct feature"));
    b.doc["annotations"] = {{lxcri::pct_rootfs_size_annotation, "2T"}};
    BOOST_TEST(fails_with([&] { b.plan(); }, "'2T' is not a size in GiB"));
}

BOOST_AUTO_TEST_CASE(capabilities_proxmox_drops_are_given_back_when_the_process_keeps_them) {
    Bundle b;
    b.process()["capabilities"] = {{"bounding", json::array{"CAP_SYS_TIME", "CAP_KILL"}}};
    auto plan = b.plan();
    BOOST_TEST(raw(plan, "lxc.cap.drop") == (std::vector<std::string>{"", "mac_admin mac_override sys_module sys_rawio"}));
    b.process()["capabilities"] = {{"bounding", json::array{"CAP_KILL"}}};
    BOOST_TEST(raw(b.plan(), "lxc.cap.drop").empty());
}

BOOST_AUTO_TEST_CASE(what_pct_cannot_apply_is_an_error) {
    Bundle no_process;
    no_process.doc.erase("process");
    BOOST_TEST(fails_with([&] { no_process.plan(); }, "process: is required by the pct backend"));

    Bundle tiny;
    tiny.linux_()["resources"] = {{"memory", {{"limit", 8 * 1024 * 1024}}}};
    BOOST_TEST(fails_with([&] { tiny.plan(); }, "linux.resources.memory.limit: is below the 16 MiB"));

    Bundle hugepages;  // Proxmox drops raw keys with upper case letters
    hugepages.linux_()["resources"] = {{"hugepageLimits", json::array{json::object{{"pageSize", "2MB"}, {"limit", 0}}}}};
    BOOST_TEST(fails_with([&] { hugepages.plan(); }, "lxc.cgroup2.hugetlb.2MB.max: Proxmox ignores raw config keys"));

    Bundle shared_pid;  // the translation's own pct checks apply
    auto& ns = shared_pid.linux_()["namespaces"].as_array();
    ns.erase(ns.begin());
    BOOST_TEST(fails_with([&] { shared_pid.plan(); }, "pct always creates a new pid namespace"));
}

BOOST_AUTO_TEST_CASE(update_resources_become_pct_set_options_or_a_named_error) {
    lxcri::Resources r;
    r.memory.emplace();
    r.memory->limit = 128 * 1024 * 1024;
    r.memory->swap = 192 * 1024 * 1024;  // memory + swap
    r.cpu.emplace();
    r.cpu->quota = 150000;
    r.cpu->period = 100000;
    r.cpu->cpus = "0-1";
    BOOST_TEST(lxcri::pct_resource_options(r) == (std::vector<std::string>{"--memory", "128", "--swap", "64", "--cores",
                                                                           "2", "--cpulimit", "1.5"}),
               boost::test_tools::per_element());
    BOOST_TEST(lxcri::pct_resource_options(lxcri::Resources{}).empty());

    lxcri::Resources pids;
    pids.pids = lxcri::PidsLimit{100};
    BOOST_TEST(fails_with([&] { lxcri::pct_resource_options(pids); }, "linux.resources.pids: pct set has no option"));
    lxcri::Resources tiny;
    tiny.memory.emplace();
    tiny.memory->limit = 1024 * 1024;
    BOOST_TEST(fails_with([&] { lxcri::pct_resource_options(tiny); }, "linux.resources.memory.limit"));
}

BOOST_AUTO_TEST_CASE(joined_network_ipc_and_uts_namespaces_are_for_the_init_to_join) {
    // podman's network namespace, a pod's sandbox: pct makes the CT's own,
    // the init helper joins these (init_protocol.hpp, step 5).
    Bundle b;
    auto& ns = b.linux_()["namespaces"].as_array();
    ns[1].as_object()["path"] = "/run/netns/engine";
    ns[2].as_object()["path"] = "/proc/42/ns/ipc";
    ns[3].as_object()["path"] = "/proc/42/ns/uts";
    auto plan = b.plan();
    BOOST_REQUIRE_EQUAL(plan.joined.size(), 3u);
    BOOST_TEST((plan.joined[0].type == lxcri::NamespaceType::network));
    BOOST_TEST(plan.joined[0].path == "/run/netns/engine");
    BOOST_TEST(plan.joined[0].field == "linux.namespaces[1].path");
    BOOST_TEST((plan.joined[1].type == lxcri::NamespaceType::ipc));
    BOOST_TEST((plan.joined[2].type == lxcri::NamespaceType::uts));
    // No Proxmox network device: the CT's own namespace has loopback only,
    // and the engine's is the one the process uses.
    BOOST_TEST(option(plan, "net0").empty());
    BOOST_TEST(raw(plan, "lxc.net.0.type") == (std::vector<std::string>{"empty"}));
    BOOST_TEST(option(plan, "unprivileged") == "0");
    BOOST_TEST(raw(plan, "lxc.namespace.share.net").empty());

    Bundle none;
    BOOST_TEST(none.plan().joined.empty());
}

BOOST_AUTO_TEST_CASE(namespaces_a_ct_cannot_join_are_errors) {
    Bundle pid;
    pid.linux_()["namespaces"].as_array()[0].as_object()["path"] = "/proc/42/ns/pid";
    BOOST_TEST(fails_with([&] { pid.plan(); }, "linux.namespaces[0].path: a CT's init is pid 1 of the pid namespace pct "
                                                "makes"));
    Bundle mount;
    mount.linux_()["namespaces"].as_array()[4].as_object()["path"] = "/proc/42/ns/mnt";
    BOOST_TEST(fails_with([&] { mount.plan(); }, "linux.namespaces[4].path: a CT joins only network, IPC and UTS"));

    // Only a privileged CT's root may join a namespace the host owns.
    Bundle unprivileged;
    unprivileged.linux_()["namespaces"].as_array()[1].as_object()["path"] = "/run/netns/engine";
    lxcri::PctSettings settings;
    settings.unprivileged = true;
    BOOST_TEST(fails_with([&] { unprivileged.plan(settings); },
                          "linux.namespaces[1].path: an unprivileged CT cannot join a namespace"));
}

BOOST_AUTO_TEST_CASE(sysctls_proxmox_refuses_as_raw_keys_are_set_in_the_containers_namespace) {
    // podman asks for net.ipv4.ping_group_range in every network namespace.
    Bundle b;
    b.linux_()["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}, {"kernel.shmmax", "1000000"}};
    auto plan = b.plan();
    BOOST_TEST((plan.namespace_sysctls == std::map<std::string, std::string>{{"net.ipv4.ping_group_range", "0 0"}}));
    BOOST_TEST(raw(plan, "lxc.sysctl.kernel.shmmax") == (std::vector<std::string>{"1000000"}));
    BOOST_TEST(raw(plan, "lxc.sysctl.net.ipv4.ping_group_range").empty());

    // In a joined IPC namespace LXC's raw key would reach the CT's own one.
    b.linux_()["namespaces"].as_array()[2].as_object()["path"] = "/proc/42/ns/ipc";
    plan = b.plan();
    BOOST_TEST(plan.namespace_sysctls.size() == 2u);
    BOOST_TEST(raw(plan, "lxc.sysctl.kernel.shmmax").empty());

    // The translation's checks stay: no network namespace, no net.* sysctl.
    Bundle host_net;
    auto& ns = host_net.linux_()["namespaces"].as_array();
    ns.erase(ns.begin() + 1);
    host_net.linux_()["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    BOOST_TEST(fails_with([&] { host_net.plan(); }, "needs a network namespace"));
    Bundle not_namespaced;
    not_namespaced.linux_()["sysctl"] = {{"vm.swappiness", "10"}};
    BOOST_TEST(fails_with([&] { not_namespaced.plan(); }, "is not namespaced"));
}

BOOST_AUTO_TEST_CASE(an_engines_cgroups_path_is_left_to_proxmox) {
    // podman and containerd always name one; the CT's cgroup is Proxmox's (lxc/<vmid>).
    Bundle b;
    b.linux_()["cgroupsPath"] = "/libpod_parent/libpod-0123";
    auto plan = b.plan();
    for (const auto& key : plan.raw_keys) BOOST_TEST(key.key.find("lxc.cgroup.dir") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_read_only_rootfs_gets_its_missing_mount_targets_in_the_template) {
    // podman's and the CRI's bind mounts of files (/etc/hostname) and
    // directories the image lacks: neither LXC nor Proxmox can make them in a
    // read-only rootfs, so the template has them.
    Bundle b;
    write_text(b.dir / "hostname", "box\n");
    b.add_mount("/etc/hostname", (b.dir / "hostname").string(), json::array{"rbind", "ro"});
    b.add_mount("/srv/cache/a", (b.dir / "data").string(), json::array{"rbind"});
    b.add_mount("/dev/mqueue", "mqueue", json::array{"nosuid"}, "mqueue");
    auto spec = [&] { return lxcri::oci::parse_config(json::value(b.doc)); };
    BOOST_TEST(lxcri::template_mount_points(spec(), b.dir).empty());  // writable: LXC makes them
    std::string writable_digest = lxcri::template_digest(spec(), b.dir);
    BOOST_TEST(writable_digest == lxcri::rootfs_digest(b.dir / "rootfs"));

    b.doc["root"].as_object()["readonly"] = true;
    auto points = lxcri::template_mount_points(spec(), b.dir);
    std::vector<std::string> listed;
    for (const auto& p : points) listed.push_back(p.path + (p.file ? " file" : " dir"));
    BOOST_TEST(listed == (std::vector<std::string>{"etc dir", "etc/hostname file", "srv dir", "srv/cache dir",
                                                   "srv/cache/a dir"}),
               boost::test_tools::per_element());
    // Another template: the same rootfs without them must not be reused.
    BOOST_TEST(lxcri::template_digest(spec(), b.dir) != writable_digest);
    BOOST_CHECK_NO_THROW(b.plan());

    // What the rootfs has is not added again.
    fs::create_directories(b.dir / "rootfs" / "srv" / "cache");
    points = lxcri::template_mount_points(spec(), b.dir);
    BOOST_REQUIRE_EQUAL(points.size(), 3u);
    BOOST_TEST(points[2].path == "srv/cache/a");
}
