#define BOOST_TEST_MODULE oci_parser
#include <boost/test/unit_test.hpp>

#include "oci/parser.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

// Lets BOOST_TEST compare and print optional members directly.
namespace boost::test_tools::tt_detail {
template <class T>
struct print_log_value<std::optional<T>> {
    void operator()(std::ostream& out, const std::optional<T>& value) {
        if (value)
            out << *value;
        else
            out << "nullopt";
    }
};
}  // namespace boost::test_tools::tt_detail

namespace fs = std::filesystem;
namespace json = boost::json;

using lxcri::Errc;
using lxcri::Error;
using lxcri::NamespaceType;
using lxcri::SeccompAction;
using lxcri::SeccompOperator;
using namespace lxcri::oci;

namespace {

const fs::path fixtures = fs::path(LXCRI_FIXTURES_DIR) / "oci";

json::value load(const fs::path& file) {
    return lxcri::parse_json(lxcri::test::read_text(file), file.filename().string());
}

lxcri::ContainerSpec parse_valid(const std::string& name) {
    auto result = check_config(load(fixtures / "valid" / name));
    std::string problems;
    for (const auto& problem : result.problems) problems += "\n  " + to_string(problem);
    BOOST_TEST_INFO(name << " problems:" << problems);
    BOOST_TEST_REQUIRE(result.problems.empty());
    BOOST_TEST_REQUIRE(result.spec.has_value());
    return std::move(*result.spec);
}

std::vector<std::string> problem_texts(const json::value& document) {
    std::vector<std::string> texts;
    for (const auto& problem : check_config(document).problems) texts.push_back(to_string(problem));
    return texts;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::string::size_type start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

json::value minimal() {
    return json::parse(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}})");
}

// Expects exactly one problem, with this text.
void expect_problem(const json::value& document, const std::string& text) {
    auto texts = problem_texts(document);
    BOOST_TEST_REQUIRE(texts.size() == 1u);
    BOOST_TEST(texts.front() == text);
}

}  // namespace

// ---- golden valid configs ------------------------------------------------------

BOOST_AUTO_TEST_SUITE(valid)

BOOST_AUTO_TEST_CASE(runc_spec_default) {
    auto spec = parse_valid("runc-spec.json");
    BOOST_TEST(spec.oci_version == "1.0.2-dev");
    BOOST_TEST_REQUIRE(spec.process.has_value());
    const auto& process = *spec.process;
    BOOST_TEST(process.terminal);
    BOOST_TEST(process.user.uid == 0u);
    BOOST_TEST(process.user.gid == 0u);
    BOOST_TEST(!process.user.umask.has_value());
    BOOST_TEST(process.args == std::vector<std::string>{"sh"});
    BOOST_TEST(process.env.size() == 2u);
    BOOST_TEST(process.env[1] == "TERM=xterm");
    BOOST_TEST(process.cwd == "/");
    BOOST_TEST_REQUIRE(process.capabilities.has_value());
    BOOST_TEST(process.capabilities->bounding ==
               (std::vector<std::string>{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
    BOOST_TEST(process.capabilities->inheritable.empty());
    BOOST_TEST(process.capabilities->ambient.size() == 3u);
    BOOST_TEST_REQUIRE(process.rlimits.size() == 1u);
    BOOST_TEST(process.rlimits[0].type == "RLIMIT_NOFILE");
    BOOST_TEST(process.rlimits[0].soft == 1024u);
    BOOST_TEST(process.rlimits[0].hard == 1024u);
    BOOST_TEST(process.no_new_privileges);
    BOOST_TEST(!process.oom_score_adj.has_value());
    BOOST_TEST(spec.root.path == "rootfs");
    BOOST_TEST(spec.root.readonly);
    BOOST_TEST(spec.hostname == "runc");
    BOOST_TEST_REQUIRE(spec.mounts.size() == 7u);
    BOOST_TEST(spec.mounts[0].destination == "/proc");
    BOOST_TEST(spec.mounts[0].type == "proc");
    BOOST_TEST(spec.mounts[0].options.empty());
    BOOST_TEST(spec.mounts[2].destination == "/dev/pts");
    BOOST_TEST(spec.mounts[2].options.back() == "gid=5");
    BOOST_TEST(spec.mounts[6].destination == "/sys/fs/cgroup");
    const auto& linux_spec = spec.linux_spec;
    BOOST_TEST_REQUIRE(linux_spec.resources.devices.size() == 1u);
    BOOST_TEST(!linux_spec.resources.devices[0].allow);
    BOOST_TEST(linux_spec.resources.devices[0].type == 'a');
    BOOST_TEST(!linux_spec.resources.devices[0].major.has_value());
    BOOST_TEST(linux_spec.resources.devices[0].access == "rwm");
    BOOST_TEST(!linux_spec.resources.memory.has_value());
    BOOST_TEST_REQUIRE(linux_spec.namespaces.size() == 5u);
    BOOST_TEST((linux_spec.namespaces[0].type == NamespaceType::pid));
    BOOST_TEST((linux_spec.namespaces[1].type == NamespaceType::network));
    BOOST_TEST((linux_spec.namespaces[4].type == NamespaceType::mount));
    BOOST_TEST(linux_spec.namespaces[4].path.empty());
    BOOST_TEST(linux_spec.uid_mappings.empty());
    BOOST_TEST(linux_spec.masked_paths.size() == 10u);
    BOOST_TEST(linux_spec.masked_paths.front() == "/proc/acpi");
    BOOST_TEST(linux_spec.readonly_paths.back() == "/proc/sysrq-trigger");
    BOOST_TEST(!linux_spec.seccomp.has_value());
    BOOST_TEST(spec.annotations.empty());
    BOOST_TEST(spec.hooks.prestart.empty());
}

BOOST_AUTO_TEST_CASE(runc_spec_rootless) {
    auto spec = parse_valid("runc-spec-rootless.json");
    const auto& linux_spec = spec.linux_spec;
    BOOST_TEST_REQUIRE(linux_spec.uid_mappings.size() == 1u);
    BOOST_TEST(linux_spec.uid_mappings[0].container_id == 0u);
    BOOST_TEST(linux_spec.uid_mappings[0].size == 1u);
    BOOST_TEST_REQUIRE(linux_spec.gid_mappings.size() == 1u);
    BOOST_TEST(linux_spec.resources.devices.empty());
    auto has = [&](NamespaceType type) {
        return std::any_of(linux_spec.namespaces.begin(), linux_spec.namespaces.end(),
                           [&](const auto& ns) { return ns.type == type; });
    };
    BOOST_TEST(has(NamespaceType::user));
    BOOST_TEST(!has(NamespaceType::network));
    BOOST_TEST(spec.mounts[5].type == "none");
    BOOST_TEST(spec.mounts[5].source == "/sys");
    BOOST_TEST(spec.mounts[5].options.front() == "rbind");
}

BOOST_AUTO_TEST_CASE(rich_every_section) {
    auto spec = parse_valid("rich.json");
    BOOST_TEST(spec.oci_version == "1.1.0");

    const auto& process = *spec.process;
    BOOST_TEST_REQUIRE(process.console_size.has_value());
    BOOST_TEST(process.console_size->height == 25u);
    BOOST_TEST(process.console_size->width == 80u);
    BOOST_TEST(process.user.uid == 1u);
    BOOST_TEST(process.user.umask == 18u);
    BOOST_TEST(process.user.additional_gids == (std::vector<std::uint32_t>{5, 6}));
    BOOST_TEST(process.user.username == "daemon");
    BOOST_TEST(process.args.size() == 3u);
    BOOST_TEST(process.env[2] == "EMPTY=");
    BOOST_TEST(process.cwd == "/srv");
    BOOST_TEST(process.capabilities->bounding.back() == "CAP_CHECKPOINT_RESTORE");
    BOOST_TEST(process.capabilities->effective.size() == 2u);
    BOOST_TEST(process.capabilities->inheritable.size() == 3u);
    BOOST_TEST(process.capabilities->ambient == std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
    BOOST_TEST(process.rlimits[0].soft == 512u);
    BOOST_TEST(process.rlimits[1].hard == 18446744073709551615ull);
    BOOST_TEST(process.apparmor_profile == "acme_secure_profile");
    BOOST_TEST(process.selinux_label == "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
    BOOST_TEST(process.oom_score_adj == -500);

    BOOST_TEST(spec.root.path == "/var/lib/containers/rich/rootfs");
    BOOST_TEST(spec.domainname == "foobarbaz.test");
    BOOST_TEST(spec.mounts[2].source == "/srv/data");
    BOOST_TEST(spec.mounts[2].options == (std::vector<std::string>{"rbind", "rprivate", "ro"}));

    BOOST_TEST(spec.hooks.prestart.size() == 2u);
    BOOST_TEST(spec.hooks.prestart[0].args.size() == 3u);
    BOOST_TEST(spec.hooks.prestart[0].env == std::vector<std::string>{"key1=value1"});
    BOOST_TEST(!spec.hooks.prestart[1].timeout.has_value());
    BOOST_TEST(spec.hooks.create_runtime[0].timeout == 10);
    BOOST_TEST(spec.hooks.create_container[0].path == "/usr/bin/mount-hook");
    BOOST_TEST(spec.hooks.start_container[0].path == "/usr/bin/refresh-ldcache");
    BOOST_TEST(spec.hooks.poststart[0].timeout == 5);
    BOOST_TEST(spec.hooks.poststop[0].args.back() == "-f");
    BOOST_TEST(spec.annotations.at("com.example.key2") == "value2");

    const auto& linux_spec = spec.linux_spec;
    BOOST_TEST_REQUIRE(linux_spec.devices.size() == 3u);
    BOOST_TEST(linux_spec.devices[0].type == 'c');
    BOOST_TEST(linux_spec.devices[0].major == 10);
    BOOST_TEST(linux_spec.devices[0].minor == 229);
    BOOST_TEST(linux_spec.devices[0].file_mode == 438u);
    BOOST_TEST(linux_spec.devices[1].gid == 6u);
    BOOST_TEST(linux_spec.devices[2].type == 'p');
    BOOST_TEST(!linux_spec.devices[2].file_mode.has_value());
    BOOST_TEST(linux_spec.uid_mappings[0].host_id == 100000u);
    BOOST_TEST(linux_spec.uid_mappings[0].size == 65536u);
    BOOST_TEST(linux_spec.gid_mappings.size() == 3u);
    BOOST_TEST(linux_spec.gid_mappings[2].container_id == 1001u);
    BOOST_TEST(linux_spec.sysctl.at("net.core.somaxconn") == "256");
    BOOST_TEST(linux_spec.cgroups_path == "/myRuntime/myContainer");

    const auto& resources = linux_spec.resources;
    BOOST_TEST(resources.network->class_id == 1048577u);
    BOOST_TEST(resources.network->priorities[1].name == "eth1");
    BOOST_TEST(resources.network->priorities[1].priority == 1000u);
    BOOST_TEST(resources.pids->limit == 32771);
    BOOST_TEST(resources.hugepage_limits[0].page_size == "2MB");
    BOOST_TEST(resources.hugepage_limits[0].limit == 9223372036854772000ull);
    const auto& memory = *resources.memory;
    BOOST_TEST(memory.limit == 536870912);
    BOOST_TEST(memory.reservation == 268435456);
    BOOST_TEST(memory.swap == 1073741824);
    BOOST_TEST(memory.kernel == -1);
    BOOST_TEST(memory.kernel_tcp == -1);
    BOOST_TEST(memory.swappiness == 60u);
    BOOST_TEST(memory.disable_oom_killer == false);
    BOOST_TEST(memory.use_hierarchy == true);
    BOOST_TEST(memory.check_before_update == true);
    const auto& cpu = *resources.cpu;
    BOOST_TEST(cpu.shares == 1024u);
    BOOST_TEST(cpu.quota == 1000000);
    BOOST_TEST(cpu.burst == 1000000u);
    BOOST_TEST(cpu.period == 500000u);
    BOOST_TEST(cpu.realtime_runtime == 950000);
    BOOST_TEST(cpu.realtime_period == 1000000u);
    BOOST_TEST(cpu.cpus == "2-3,7");
    BOOST_TEST(cpu.mems == "0-7");
    BOOST_TEST(cpu.idle == 1);
    BOOST_TEST(resources.devices[1].allow);
    BOOST_TEST(resources.devices[1].type == 'c');
    BOOST_TEST(resources.devices[1].major == 10);
    BOOST_TEST(resources.devices[2].type == 'b');
    BOOST_TEST(resources.devices[2].access == "r");
    const auto& io = *resources.block_io;
    BOOST_TEST(io.weight == 10);
    BOOST_TEST(io.leaf_weight == 10);
    BOOST_TEST(io.weight_device[0].leaf_weight == 300);
    BOOST_TEST(!io.weight_device[1].leaf_weight.has_value());
    BOOST_TEST(io.throttle_read_bps_device[0].rate == 600u);
    BOOST_TEST(io.throttle_write_bps_device[0].rate == 700u);
    BOOST_TEST(io.throttle_read_iops_device[0].minor == 16);
    BOOST_TEST(io.throttle_write_iops_device[0].rate == 300u);
    BOOST_TEST(resources.rdma.at("mlx5_1").hca_handles == 3u);
    BOOST_TEST(!resources.rdma.at("mlx4_0").hca_handles.has_value());
    BOOST_TEST(resources.rdma.at("mlx4_0").hca_objects == 1000u);
    BOOST_TEST(resources.unified.at("memory.high") == "1073741824");

    BOOST_TEST(linux_spec.rootfs_propagation == "slave");
    const auto& seccomp = *linux_spec.seccomp;
    BOOST_TEST((seccomp.default_action == SeccompAction::return_errno));
    BOOST_TEST(seccomp.default_errno_ret == 38u);
    BOOST_TEST(seccomp.architectures.size() == 3u);
    BOOST_TEST(seccomp.flags.back() == "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    BOOST_TEST(seccomp.listener_path == "/run/seccomp-agent.sock");
    BOOST_TEST(seccomp.listener_metadata == "rich-container");
    BOOST_TEST_REQUIRE(seccomp.syscalls.size() == 4u);
    BOOST_TEST(seccomp.syscalls[0].names == (std::vector<std::string>{"getcwd", "chmod"}));
    BOOST_TEST((seccomp.syscalls[1].action == SeccompAction::notify));
    BOOST_TEST(seccomp.syscalls[2].args[0].value == 4294967295u);
    BOOST_TEST((seccomp.syscalls[2].args[0].op == SeccompOperator::eq));
    BOOST_TEST(seccomp.syscalls[3].errno_ret == 1u);
    BOOST_TEST((seccomp.syscalls[3].args[0].op == SeccompOperator::masked_eq));
    BOOST_TEST(seccomp.syscalls[3].args[0].value == 2114060288u);
    BOOST_TEST(linux_spec.intel_rdt->clos_id == "guaranteed_group");
    BOOST_TEST(linux_spec.intel_rdt->mem_bw_schema == "MB:0=20;1=70");
    BOOST_TEST(linux_spec.intel_rdt->enable_cmt);
    BOOST_TEST(linux_spec.personality->domain == "LINUX32");
    BOOST_TEST(linux_spec.namespaces[1].path == "/var/run/netns/neta");
    BOOST_TEST((linux_spec.namespaces[6].type == NamespaceType::cgroup));
    BOOST_TEST(linux_spec.masked_paths.size() == 4u);
    BOOST_TEST(linux_spec.readonly_paths.size() == 6u);
    BOOST_TEST(linux_spec.mount_label == "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");
}

BOOST_AUTO_TEST_CASE(oci_1_0_0) {
    auto spec = parse_valid("oci-1.0.0.json");
    BOOST_TEST(spec.oci_version == "1.0.0");
    BOOST_TEST(!spec.process->terminal);
    BOOST_TEST(spec.process->args == std::vector<std::string>{"/bin/true"});
    BOOST_TEST(!spec.process->capabilities.has_value());
    BOOST_TEST(spec.root.path == "rootfs");
    BOOST_TEST(!spec.root.readonly);
    BOOST_TEST(spec.hostname == "v100");
    BOOST_TEST(spec.mounts.size() == 1u);
    BOOST_TEST(spec.linux_spec.namespaces.size() == 2u);
}

BOOST_AUTO_TEST_CASE(oci_1_2_0) {
    auto spec = parse_valid("oci-1.2.0.json");
    BOOST_TEST(spec.oci_version == "1.2.0");
    const auto& process = *spec.process;
    BOOST_TEST(process.user.uid == 1000u);
    BOOST_TEST(process.env.empty());
    BOOST_TEST(process.io_priority->io_class == "IOPRIO_CLASS_BE");
    BOOST_TEST(process.io_priority->priority == 4);
    BOOST_TEST(process.scheduler->policy == "SCHED_DEADLINE");
    BOOST_TEST(process.scheduler->nice == -5);
    BOOST_TEST(process.scheduler->flags == std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"});
    BOOST_TEST(process.scheduler->runtime == 10000000u);
    BOOST_TEST(process.scheduler->deadline == 20000000u);
    BOOST_TEST(process.scheduler->period == 30000000u);
    BOOST_TEST(process.exec_cpu_affinity->initial == "0");
    BOOST_TEST(process.exec_cpu_affinity->final == "1-3");
    BOOST_TEST_REQUIRE(spec.mounts.size() == 1u);
    BOOST_TEST(spec.mounts[0].uid_mappings[0].host_id == 1000u);
    BOOST_TEST(spec.mounts[0].gid_mappings[0].size == 1u);
    BOOST_TEST((spec.linux_spec.namespaces[2].type == NamespaceType::time));
    BOOST_TEST_REQUIRE(spec.linux_spec.time_offsets.has_value());
    BOOST_TEST(spec.linux_spec.time_offsets->monotonic->secs == 172800);
    BOOST_TEST(spec.linux_spec.time_offsets->boottime->secs == -3600);
    BOOST_TEST(spec.linux_spec.time_offsets->boottime->nanosecs == 999999999u);
    BOOST_TEST(spec.linux_spec.rootfs_propagation == "rslave");
}

BOOST_AUTO_TEST_CASE(extensions_and_nulls_are_ignored) {
    auto spec = parse_valid("extensions.json");
    BOOST_TEST(spec.oci_version == "1.0.2-dev+build.7");
    BOOST_TEST(spec.process->env.empty());
    BOOST_TEST(!spec.process->capabilities.has_value());
    BOOST_TEST(spec.annotations.empty());
    BOOST_TEST(spec.mounts[0].options.empty());
    BOOST_TEST(!spec.linux_spec.resources.memory->limit.has_value());
    BOOST_TEST(spec.linux_spec.resources.memory->swap == -1);
    BOOST_TEST(spec.linux_spec.rootfs_propagation.empty());
}

BOOST_AUTO_TEST_CASE(no_process_is_allowed) {
    auto spec = parse_config(json::parse(R"({"ociVersion": "1.0.1", "root": {"path": "/rootfs"}})"));
    BOOST_TEST(!spec.process.has_value());
    BOOST_TEST(spec.root.path == "/rootfs");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- invalid corpus ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invalid_corpus) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fixtures / "invalid"))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    BOOST_TEST(files.size() >= 30u);

    for (const auto& file : files) {
        BOOST_TEST_CONTEXT(file.filename().string()) {
            auto expected_file = fs::path(file).replace_extension(".expected");
            BOOST_TEST_REQUIRE(fs::exists(expected_file));
            auto expected = lines_of(lxcri::test::read_text(expected_file));
            BOOST_TEST_REQUIRE(!expected.empty());
            auto text = lxcri::test::read_text(file);

            json::value document;
            try {
                // Named as load_bundle_config names it.
                document = lxcri::parse_json(text, "config.json");
            } catch (const Error& e) {
                BOOST_TEST((e.code() == Errc::invalid_input));
                BOOST_TEST(std::vector<std::string>{e.what()} == expected, boost::test_tools::per_element());
                continue;
            }
            auto result = check_config(document);
            BOOST_TEST(!result.spec.has_value());
            std::vector<std::string> got;
            for (const auto& problem : result.problems) got.push_back(to_string(problem));
            BOOST_TEST(got == expected, boost::test_tools::per_element());

            // parse_config reports the first of them.
            try {
                parse_config(document);
                BOOST_ERROR("parse_config accepted an invalid document");
            } catch (const Error& e) {
                BOOST_TEST((e.code() == Errc::invalid_input));
                BOOST_TEST(std::string(e.what()) == expected.front());
            }
        }
    }
}

// ---- rules in detail -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(problem_paths) {
    BOOST_TEST(to_string(Problem{"", "must be an object"}) == "must be an object");
    BOOST_TEST(to_string(Problem{"a.b[2]", "is required"}) == "a.b[2]: is required");
    auto document = minimal();
    document.at("process").as_object()["env"] = json::array{"A=1", 2, "B"};
    auto problems = check_config(document).problems;
    BOOST_TEST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].path == "process.env[1]");
    BOOST_TEST(problems[0].message == "must be a string");
}

BOOST_AUTO_TEST_CASE(oci_versions) {
    BOOST_TEST(supported_oci_version_min() == "1.0.0");
    BOOST_TEST(supported_oci_version_max() == "1.3.x");
    for (const char* good : {"1.0.0", "1.0.1", "1.0.2-dev", "1.1.0-rc.1", "1.1.0", "1.2.0", "1.2.1", "1.2.99",
                             "1.2.1+build.5", "1.2.0-rc.1+meta", "1.3.0", "1.3.0-dev", "1.3.7", "1.4.0", "1.12.0"})
        BOOST_TEST(is_supported_oci_version(good), good);
    for (const char* bad : {"", "1", "1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.00.0", "1.0.0-", "1.0.0-01",
                            "1.0.0+", "1.0.0-rc5", "0.5.0-dev", "2.0.0", " 1.0.0", "1.0.0 ",
                            "18446744073709551616.0.0"})
        BOOST_TEST(!is_supported_oci_version(bad), bad);
}

// A later 1.x than the newest known is accepted with one warning, as runc
// and crun accept it; up to 1.3.x there is none.
BOOST_AUTO_TEST_CASE(a_newer_minor_version_is_a_warning) {
    auto document = minimal();
    auto& version = document.as_object()["ociVersion"];
    for (const char* known : {"1.0.0", "1.2.1", "1.3.0", "1.3.5"}) {
        version = known;
        auto result = check_config(document);
        BOOST_TEST(result.problems.empty(), known);
        BOOST_TEST(result.warnings.empty(), known);
    }
    version = "1.4.0";
    auto result = check_config(document);
    BOOST_TEST(result.problems.empty());
    BOOST_TEST_REQUIRE(result.warnings.size() == 1u);
    BOOST_TEST(to_string(result.warnings[0]) ==
               "ociVersion: 1.4.0 is newer than 1.3.x, the newest this runtime knows: members it added are ignored");
}

// The members runtime-spec 1.3 added for Linux.
BOOST_AUTO_TEST_CASE(spec_1_3_members) {
    auto spec = parse_valid("oci-1.3.0.json");
    BOOST_TEST(!spec.linux_spec.resources.pids.has_value());  // limit is optional since 1.3
    BOOST_TEST_REQUIRE(spec.linux_spec.intel_rdt.has_value());
    BOOST_TEST((spec.linux_spec.intel_rdt->schemata == std::vector<std::string>{"L3:0=7f", "MB:0=70"}));
    BOOST_TEST(spec.linux_spec.intel_rdt->enable_monitoring);
    BOOST_TEST_REQUIRE(spec.linux_spec.memory_policy.has_value());
    BOOST_TEST(spec.linux_spec.memory_policy->mode == "MPOL_BIND");
    BOOST_TEST(spec.linux_spec.memory_policy->nodes == "0-1");
    BOOST_TEST((spec.linux_spec.memory_policy->flags == std::vector<std::string>{"MPOL_F_STATIC_NODES"}));
    BOOST_TEST_REQUIRE(spec.linux_spec.net_devices.size() == 2u);
    BOOST_TEST(spec.linux_spec.net_devices.at("eth1").name == "ctr1");
    BOOST_TEST(spec.linux_spec.net_devices.at("eth2").name == "");
    BOOST_TEST_REQUIRE(spec.process->exec_cpu_affinity.has_value());
    BOOST_TEST(spec.process->exec_cpu_affinity->final == "0-1");

    auto document = load(fixtures / "valid" / "oci-1.3.0.json");
    auto& linux_object = document.as_object()["linux"].as_object();
    linux_object["memoryPolicy"].as_object()["mode"] = "MPOL_NONE";
    linux_object["netDevices"].as_object()["eth1"].as_object()["name"] = "a/b";
    linux_object["netDevices"].as_object()["this-name-is-too-long"] = json::object{};
    auto problems = problem_texts(document);
    BOOST_TEST(problems.size() == 3u);
    auto has = [&](const std::string& start) {
        return std::ranges::any_of(problems, [&](const std::string& p) { return p.starts_with(start); });
    };
    BOOST_TEST(has("linux.memoryPolicy.mode: "));
    BOOST_TEST(has(R"(linux.netDevices["eth1"].name: is not a network interface name)"));
    BOOST_TEST(has(R"(linux.netDevices["this-name-is-too-long"]: is not a network interface name)"));
}

BOOST_AUTO_TEST_CASE(integer_edges) {
    auto with_limit = [](const char* literal) {
        return json::parse(std::string(R"({"ociVersion": "1.2.0", "root": {"path": "r"},
            "linux": {"resources": {"memory": {"limit": )") + literal + "}}}}");
    };
    BOOST_TEST(problem_texts(with_limit("9223372036854775807")).empty());
    BOOST_TEST(problem_texts(with_limit("-1")).empty());
    BOOST_TEST(problem_texts(with_limit("0")).empty());
    expect_problem(with_limit("-9223372036854775808"), "linux.resources.memory.limit: must be >= -1");
    expect_problem(with_limit("-9223372036854775809"), "linux.resources.memory.limit: must be >= -1");
    expect_problem(with_limit("18446744073709551615"),
                   "linux.resources.memory.limit: must be <= 9223372036854775807");
    expect_problem(with_limit("1e400"), "linux.resources.memory.limit: must be an integer");
    expect_problem(with_limit("1e3"), "linux.resources.memory.limit: must be an integer");
    expect_problem(with_limit("512.0"), "linux.resources.memory.limit: must be an integer");
    expect_problem(with_limit("true"), "linux.resources.memory.limit: must be an integer");
    expect_problem(with_limit("[1]"), "linux.resources.memory.limit: must be an integer");

    auto rlimit = json::parse(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "process": {"args": ["sh"],
        "cwd": "/", "rlimits": [{"type": "RLIMIT_AS", "soft": 18446744073709551615,
        "hard": 18446744073709551616}]}})");
    expect_problem(rlimit, "process.rlimits[0].hard: must be <= 18446744073709551615");
}

BOOST_AUTO_TEST_CASE(hook_timeout_and_fifo_device) {
    auto document = minimal();
    document.as_object()["hooks"] = json::parse(R"({"poststart": [{"path": "/x", "timeout": -5}]})");
    expect_problem(document, "hooks.poststart[0].timeout: must be greater than 0");
    document.as_object()["hooks"] = json::parse(R"({"poststart": [{"path": "/x", "timeout": 1}]})");
    document.as_object()["linux"] = json::parse(R"({"devices": [{"type": "p", "path": "/run/f"},
        {"type": "u", "path": "/dev/u", "major": 1}]})");
    expect_problem(document, "linux.devices[1].minor: is required for type u");
}

BOOST_AUTO_TEST_CASE(idmapping_edges) {
    auto document = minimal();
    // Ends exactly at 2^32: fine. Adjacent ranges: fine.
    document.as_object()["linux"] = json::parse(R"({"uidMappings": [
        {"containerID": 0, "hostID": 4294967295, "size": 1},
        {"containerID": 1, "hostID": 100000, "size": 65536},
        {"containerID": 65537, "hostID": 165536, "size": 1}]})");
    BOOST_TEST(problem_texts(document).empty());
    document.as_object()["linux"] = json::parse(R"({"uidMappings": [
        {"containerID": 4294967295, "hostID": 0, "size": 2}]})");
    expect_problem(document, "linux.uidMappings[0]: containerID + size exceeds 4294967296");
    document.as_object()["linux"] = json::parse(R"({"uidMappings": [
        {"containerID": 0, "hostID": 10, "size": 5},
        {"containerID": 100, "hostID": 12, "size": 1},
        {"containerID": 3, "hostID": 1000, "size": 1}]})");
    auto texts = problem_texts(document);
    BOOST_TEST(texts == (std::vector<std::string>{
                            "linux.uidMappings[1]: host range overlaps linux.uidMappings[0]",
                            "linux.uidMappings[2]: container range overlaps linux.uidMappings[0]",
                        }),
               boost::test_tools::per_element());
    // Overlaps are only compared once every entry is whole: a broken entry
    // would otherwise be compared with made-up values.
    document.as_object()["linux"] = json::parse(R"({"uidMappings": [
        {"containerID": 0, "size": 5},
        {"containerID": 0, "hostID": 12, "size": 1}]})");
    expect_problem(document, "linux.uidMappings[0].hostID: is required");
}

BOOST_AUTO_TEST_CASE(cpu_lists) {
    auto with_cpus = [](const char* cpus) {
        auto document = minimal();
        document.as_object()["linux"] = {{"resources", {{"cpu", {{"cpus", cpus}}}}}};
        return problem_texts(document);
    };
    for (const char* good : {"", "0", "0-3", "0-3,7", "1,2,3", "0 - 3, 7", "4-4"})
        BOOST_TEST(with_cpus(good).empty(), good);
    for (const char* bad : {"-1", "3-1", "0,", ",0", "a", "0-3-5", "0x1", "99999999999"})
        BOOST_TEST(with_cpus(bad).size() == 1u, bad);
}

// Every value of the rich config replaced, one at a time, by every kind of
// JSON value: the checker reports or accepts, and never crashes or throws.
BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
    auto rich = load(fixtures / "valid" / "rich.json");
    const std::vector<json::value> junk = {
        nullptr, true, false, 0, -1, json::value(std::uint64_t{18446744073709551615ull}),
        json::value(std::int64_t{-9223372036854775807ll - 1}), 1.5, 1e300, "", "x", "/abs",
        json::array{}, json::array{1, "a", nullptr}, json::object{}, json::object{{"a", json::array{}}}};

    std::size_t checked = 0;
    std::function<void(json::value&)> visit = [&](json::value& node) {
        auto mutate_child = [&](json::value& child) {
            json::value saved = child;
            for (const auto& replacement : junk) {
                child = replacement;
                auto result = check_config(rich);
                BOOST_CHECK(result.spec.has_value() == result.problems.empty());
                ++checked;
            }
            child = std::move(saved);
            visit(child);
        };
        if (auto* object = node.if_object()) {
            for (auto& member : *object) mutate_child(member.value());
        } else if (auto* array = node.if_array()) {
            for (auto& element : *array) mutate_child(element);
        }
    };
    visit(rich);
    BOOST_TEST(checked > 5000u);
    BOOST_TEST(check_config(rich).problems.empty());

    for (const auto& top : junk) {
        auto result = check_config(top);
        BOOST_TEST(!result.spec.has_value());
        BOOST_TEST(!result.problems.empty());
    }
}

BOOST_AUTO_TEST_CASE(deep_nesting) {
    // Deeper than the parser's limit: an error, not a stack overflow.
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    BOOST_CHECK_THROW(lxcri::parse_json(deep, "config.json"), Error);

    // Deep junk built by hand, in known and unknown members.
    json::value junk = json::array{};
    for (int i = 0; i < 1000; ++i) junk = json::array{std::move(junk)};
    auto document = minimal();
    document.as_object()["org.example"] = junk;
    document.as_object()["linux"] = json::object{{"resources", junk}};
    expect_problem(document, "linux.resources: must be an object");
}

// ---- load_bundle_config --------------------------------------------------------

BOOST_AUTO_TEST_CASE(load_bundle) {
    lxcri::test::TempDir dir;
    try {
        load_bundle_config(dir / "missing");
        BOOST_ERROR("no error for a missing bundle");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Errc::not_found));
        BOOST_TEST(std::string(e.what()) ==
                   "bundle '" + (dir / "missing").string() + "' does not exist");
    }
    try {
        load_bundle_config(dir.path());
        BOOST_ERROR("no error for a missing config.json");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Errc::not_found));
        BOOST_TEST(std::string(e.what()) == "config.json: no such file in bundle " + dir.path().string());
    }

    lxcri::test::write_text(dir / "config.json", "{\"ociVersion\": ");
    try {
        load_bundle_config(dir.path());
        BOOST_ERROR("no error for malformed JSON");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Errc::invalid_input));
        BOOST_TEST(std::string(e.what()).starts_with("config.json: invalid JSON at line 1"));
    }

    lxcri::test::write_text(dir / "config.json",
                            R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
                                "linux": {"resources": {"memory": {"limit": "1G"}}}})");
    try {
        load_bundle_config(dir.path());
        BOOST_ERROR("no error for a bad document");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Errc::invalid_input));
        BOOST_TEST(std::string(e.what()) == "config.json: linux.resources.memory.limit: must be an integer");
    }

    fs::copy_file(fixtures / "valid" / "runc-spec.json", dir / "config.json",
                  fs::copy_options::overwrite_existing);
    auto spec = load_bundle_config(dir.path());
    BOOST_TEST(spec.hostname == "runc");
    BOOST_TEST(spec.root.path == "rootfs");
}
