#define BOOST_TEST_MODULE pct_fake
#include <boost/test/unit_test.hpp>

#include "fakes/fake_pve.hpp"
#include "support/test_support.hpp"

// The pct and pvesh doubles themselves: they must refuse what real pct
// refuses (../shared/reference/pct.md), with its message and exit 255, or
// the backend tests would prove nothing.
namespace fs = std::filesystem;
namespace fake = lxcri::test::pct;
namespace utf = boost::unit_test;
using lxcri::test::RunResult;

namespace {

struct Fixture {
    fake::FakePve pve;
    fs::path archive = pve.tmp / "plain.tar.gz";

    Fixture() {
        fs::path rootfs = pve.tmp / "plain";
        fs::create_directories(rootfs / "bin");
        fs::create_directories(rootfs / "etc");
        lxcri::test::write_text(rootfs / "etc" / "hostname", "plain\n");
        BOOST_REQUIRE(lxcri::test::run({"tar", "-czf", archive.string(), "-C", rootfs.string(), "."}).exit_code == 0);
    }

    RunResult pct(const std::vector<std::string>& args) const { return pve.pct(args); }

    RunResult pvesh(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{(fake::fakes_dir / "pvesh").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return lxcri::test::run(argv);
    }

    // `pct create <vmid> <archive> <options>` that must fail with `message`.
    void refuses(const std::vector<std::string>& options, const std::string& message,
                 const std::string& vmid = "101") const {
        std::vector<std::string> args{"create", vmid, archive.string()};
        args.insert(args.end(), options.begin(), options.end());
        auto r = pct(args);
        BOOST_TEST_CONTEXT(fake::lines(args)) {
            BOOST_TEST(r.exit_code == 255);
            BOOST_TEST(r.err == message);
        }
        BOOST_TEST(!fs::exists(pve.dir / "lxc" / (vmid + ".conf")));
    }

    RunResult create(const std::string& vmid, std::vector<std::string> options = {}) const {
        std::vector<std::string> args{"create", vmid, archive.string(), "--rootfs", "local-lvm:1", "--unprivileged",
                                      "0"};
        args.insert(args.end(), options.begin(), options.end());
        return pct(args);
    }
};

std::string verification(const std::string& param, const std::string& message) {
    return "400 Parameter verification failed.\n" + param + ": " + message + "\n";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pct_double, Fixture)

BOOST_AUTO_TEST_CASE(options_and_values_are_checked_as_pct_checks_them) {
    refuses({"--bogus", "1"},
            verification("bogus", "property is not defined in schema and the schema does not allow additional properties"));
    refuses({}, verification("vmid", "value does not look like a valid VM ID"), "99");
    refuses({}, verification("vmid", "value does not look like a valid VM ID"), "0101");
    refuses({"--memory", "8"}, verification("memory", "value must have a minimum value of 16"));
    refuses({"--memory", "1G"}, verification("memory", "type check ('integer') failed - got '1G'"));
    refuses({"--swap", "-1"}, verification("swap", "value must have a minimum value of 0"));
    refuses({"--cores", "0"}, verification("cores", "value must have a minimum value of 1"));
    refuses({"--cores", "8193"}, verification("cores", "value must have a maximum value of 8192"));
    refuses({"--cpulimit", "8192.5"}, verification("cpulimit", "value must have a maximum value of 8192"));
    refuses({"--cpuunits", "500001"}, verification("cpuunits", "value must have a maximum value of 500000"));
    refuses({"--tty", "7"}, verification("tty", "value must have a maximum value of 6"));
    refuses({"--unprivileged", "maybe"}, "400 too many arguments\n");  // a bare boolean, then a stray word
    refuses({"--onboot", "--console", "maybe"}, "400 too many arguments\n");
    refuses({"--arch", "x86_64"},
            verification("arch", "value 'x86_64' does not have a value in the enumeration 'amd64, i386, arm64, armhf, "
                                 "riscv32, riscv64'"));
    refuses({"--cmode", "serial"},
            verification("cmode", "value 'serial' does not have a value in the enumeration 'tty, console, shell'"));
    refuses({"--hostname", "no_underscores"}, verification("hostname", "value does not look like a valid DNS name"));
    refuses({"--description", std::string(8193, 'x')}, verification("description", "value may only be 8192 characters long"));
    refuses({"--entrypoint", "/init\n--evil"}, verification("entrypoint", "value must not contain control characters"));
    refuses({"--memory", "64", "--memory", "128"}, verification("memory", "duplicate parameter"));
    refuses({"--memory"}, "400 unable to parse option\nOption memory requires an argument\n");
    refuses({"extra"}, "400 too many arguments\n");
}

BOOST_AUTO_TEST_CASE(property_strings_are_checked_key_by_key) {
    refuses({"--rootfs", "local-lvm:8,bogus=1"}, verification("rootfs", "invalid format - unknown key 'bogus'"));
    refuses({"--rootfs", "local-lvm:8,size=8X"},
            verification("rootfs", "invalid format - size: value does not look like a valid disk size"));
    refuses({"--rootfs", "local-lvm:8,ro=2"},
            verification("rootfs", "invalid format - ro: type check ('boolean') failed - got '2'"));
    refuses({"--rootfs", "/srv/root"},
            verification("rootfs", "invalid format - volume: the rootfs must be a storage volume"));
    refuses({"--rootfs", "local-lvm:8", "--mp0", "/srv/data"}, verification("mp0", "invalid format - missing key 'mp'"));
    refuses({"--rootfs", "local-lvm:8", "--mp0", "/srv/data,mp=/data/../etc"},
            verification("mp0", "invalid format - mp: invalid path: '/data/../etc' contains '.' or '..' components"));
    refuses({"--rootfs", "local-lvm:8", "--mp0", "/srv/./data,mp=/data"},
            verification("mp0", "invalid path: '/srv/./data' contains '.' or '..' components"));
    refuses({"--rootfs", "local-lvm:8", "--mp0", "/srv/data,mp=/data,mountoptions=nosuid;rbind"},
            verification("mp0", "invalid format - mountoptions: value 'rbind' does not have a value in the enumeration "
                                "'discard, lazytime, noatime, nodev, noexec, nosuid'"));
    refuses({"--rootfs", "local-lvm:8", "--mp256", "/srv,mp=/srv"},
            verification("mp256", "property is not defined in schema and the schema does not allow additional properties"));
    refuses({"--net0", "bridge=vmbr0"}, verification("net0", "invalid format - missing key 'name'"));
    refuses({"--net0", "name=eth0,tag=4095"}, verification("net0", "invalid format - tag: value must have a maximum value of 4094"));
    refuses({"--net0", "name=eth0,ip=10.0.0.1"},
            verification("net0", "invalid format - ip: value does not look like a valid IPv4 network configuration"));
    refuses({"--net0", "name=eth0,type=macvlan"},
            verification("net0", "invalid format - type: value 'macvlan' does not have a value in the enumeration 'veth'"));
    refuses({"--net32", "name=eth0"},
            verification("net32", "property is not defined in schema and the schema does not allow additional properties"));
    refuses({"--features", "nesting=1,docker=1"}, verification("features", "invalid format - unknown key 'docker'"));
    refuses({"--mp0", "/srv/data,mp=/data"}, "mount points configured, but 'rootfs' not set - aborting\n");
}

BOOST_AUTO_TEST_CASE(storages_templates_and_vmids_are_checked) {
    refuses({"--rootfs", "nope:8"}, "unable to create CT 101 - storage 'nope' does not exist\n");
    refuses({"--rootfs", "local:8"}, "unable to create CT 101 - storage 'local' does not support container directories\n");
    auto r = pct({"create", "101", "/no/such.tar.gz"});
    BOOST_TEST(r.exit_code == 255);
    BOOST_TEST(r.err == "can't find file '/no/such.tar.gz'\n");
    r = pct({"create", "101", "local:vztmpl/missing.tar.zst"});
    BOOST_TEST(r.err == "volume 'local:vztmpl/missing.tar.zst' does not exist\n");
    r = pct({"create", "101", "local-lvm:vztmpl/plain.tar.gz"});
    BOOST_TEST(r.err == "storage 'local-lvm' does not support container templates\n");

    // Another node's VM, as .vmlist (pmxcfs) shows it.
    lxcri::test::write_text(pve.dir / ".vmlist",
                            R"({"version":1,"ids":{"300":{"node":"pve2","type":"qemu","version":1}}})");
    r = create("300");
    BOOST_TEST(r.err == "VM 300 already exists on node 'pve2'\n");
    BOOST_TEST(pve.leftovers() == std::vector<std::string>{".vmlist: 300"});
}

BOOST_AUTO_TEST_CASE(create_list_config_and_destroy, *utf::precondition([](utf::test_unit_id) { return lxcri::test::is_root(); })) {
    auto r = pct({"list"});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == "");  // nothing, not even the header, without CTs
    r = create("101", {"--hostname", "web", "--memory", "1024", "--net0", "name=eth0,bridge=vmbr0,ip=dhcp",
                       "--description", "two words: and a colon", "--features", "nesting=1,keyctl=yes"});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    r = create("101");
    BOOST_TEST(r.exit_code == 255);
    BOOST_TEST(r.err == "CT 101 already exists on node 'pve'\n");
    // Bare booleans, before another option and last.
    BOOST_REQUIRE(create("102", {"--console", "--hostname", "db", "--onboot"}).exit_code == 0);

    std::string conf = lxcri::test::read_text(pve.dir / "lxc" / "101.conf");
    BOOST_TEST(conf == "#two words%3A and a colon\n"
                       "arch: amd64\n"
                       "features: keyctl=1,nesting=1\n"
                       "hostname: web\n"
                       "memory: 1024\n"
                       "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:65,ip=dhcp,type=veth\n"
                       "rootfs: local-lvm:vm-101-disk-0,size=1G\n"
                       "unprivileged: 0\n");
    BOOST_TEST(fs::exists(pve.dir / ".fake/volumes/local-lvm/vm-101-disk-0/etc/hostname"));
    r = pct({"list"});
    BOOST_TEST(r.out == "VMID       Status     Lock         Name                \n"
                        "101        stopped                 web                 \n"
                        "102        stopped                 db                  \n");
    r = pct({"status", "101"});
    BOOST_TEST(r.out == "status: stopped\n");
    r = pct({"status", "555"});
    BOOST_TEST(r.exit_code == 255);
    BOOST_TEST(r.err == "Configuration file 'nodes/pve/lxc/555.conf' does not exist\n");
    r = pct({"stop", "101"});
    BOOST_TEST(r.err == "CT 101 not running\n");

    // Raw keys: only what Proxmox allows, else its warning (and the key is dropped).
    std::ofstream(pve.dir / "lxc" / "101.conf", std::ios::app)
        << "lxc.environment.runtime: A=b c\nlxc.rootfs.path: /x\nlxc.cgroup2.hugetlb.2MB.max: 0\nlxc.bogus.key = 1\n";
    r = pct({"config", "101"});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out.find("description: two words: and a colon\n") == 0);
    BOOST_TEST(r.out.find("lxc.environment.runtime: A=b c\n") != std::string::npos);
    BOOST_TEST(r.err == "vm 101 - lxc.rootfs.path is auto generated from rootfs\n"
                        "vm 101 - unable to parse config: lxc.cgroup2.hugetlb.2MB.max: 0\n"
                        "vm 101 - unable to parse config: lxc.bogus.key = 1\n");
    BOOST_TEST(pve.calls().back().warnings.size() == 3u);

    r = pct({"set", "101", "--unprivileged", "1"});
    BOOST_TEST(r.err == verification("unprivileged", "unable to modify read-only option: 'unprivileged'"));
    BOOST_TEST(pct({"set", "101", "--delete", "memory,features", "--cores", "2"}).exit_code == 0);
    r = pct({"config", "101"});
    BOOST_TEST(r.out.find("memory:") == std::string::npos);
    BOOST_TEST(r.out.find("cores: 2\n") != std::string::npos);

    BOOST_TEST(pct({"destroy", "101", "--purge"}).exit_code == 0);
    BOOST_TEST(pct({"destroy", "102"}).exit_code == 0);
    BOOST_TEST(pve.leftovers().empty(), fake::lines(pve.leftovers()));
}

BOOST_AUTO_TEST_CASE(calls_are_logged_and_failures_injected) {
    ::setenv("FAKE_PCT_FAIL", "list#2", 1);
    auto first = pct({"list"});
    auto second = pct({"list"});
    auto third = pct({"list"});
    ::unsetenv("FAKE_PCT_FAIL");
    BOOST_TEST(first.exit_code == 0);
    BOOST_TEST(second.exit_code == 255);
    BOOST_TEST(second.err == "fake pct: injected failure of 'pct list'\n");
    BOOST_TEST(third.exit_code == 0);
    auto calls = pve.calls();
    BOOST_REQUIRE_EQUAL(calls.size(), 3u);
    BOOST_TEST(calls[1].argv == std::vector<std::string>{"list"});
    BOOST_TEST(calls[1].exit == 255);

    // Another node takes the VMID just before this create.
    ::setenv("FAKE_PCT_TAKEN_ON_OTHER_NODE", "4242", 1);
    auto r = create("4242");
    ::unsetenv("FAKE_PCT_TAKEN_ON_OTHER_NODE");
    BOOST_TEST(r.err == "CT 4242 already exists on node 'pve2'\n");
}

BOOST_AUTO_TEST_CASE(pvesh_nextid) {
    auto r = pvesh({"get", "/cluster/nextid"});
    BOOST_TEST(r.out == "100\n");
    lxcri::test::write_text(pve.dir / ".vmlist", R"({"version":1,"ids":{"100":{"node":"pve2","type":"qemu","version":1}}})");
    r = pvesh({"get", "/cluster/nextid", "--output-format", "json"});
    BOOST_TEST(r.out == "101\n");
    r = pvesh({"get", "/cluster/nextid", "--vmid", "100"});
    BOOST_TEST(r.exit_code == 255);
    BOOST_TEST(r.err == verification("vmid", "VM 100 already exists"));
    BOOST_TEST(pvesh({"get", "/cluster/nextid", "--vmid", "150"}).out == "150\n");
    lxcri::test::write_text(pve.dir / "datacenter.cfg", "next-id: lower=5000,upper=6000\n");
    BOOST_TEST(pvesh({"get", "/cluster/nextid"}).out == "5000\n");
    BOOST_TEST(pvesh({"get", "/cluster/resources"}).exit_code == 255);
}

BOOST_AUTO_TEST_SUITE_END()
