#define BOOST_TEST_MODULE faults
#include <boost/test/unit_test.hpp>

#include "state/mapping_store.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

// Faults on the built binary (issue 11): kill -9 of create, start and delete
// at random moments, a full disk, damaged state and mapping files, and
// concurrent create/delete of one id, with the dry-run and the lxc backend.
// After each fault `list`, `delete --force` and a fresh `create` of the same
// id work, and nothing is left: no process, cgroup, LXC config, runtime
// directory or mapping entry. Needs root (real containers, tmpfs mounts).
//
// LXCRI_FAULT_RUNS=N runs N kills of create per backend (default 50) and
// half as many of start and of delete; LXCRI_FAULT_SEED picks the moments.
// Each loop prints its figures ("tried N, killed K, inconsistent I").
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::RunResult;
using lxcri::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

// A VMID range of its own: cgroups and configs in it are this test's.
constexpr lxcri::Vmid vmid_min = 970100;
constexpr lxcri::Vmid vmid_max = 970199;

int env_number(const char* name, int fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::atoi(value) : fallback;
}

struct Subreaper {
    Subreaper() { lxcri::test::become_subreaper(); }
};

// Children that exited: monitors of killed creates are re-parented to us.
void reap_exited() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

// Live processes whose parent is this test (re-parented monitors and inits).
std::vector<std::string> live_children() {
    reap_exited();
    std::vector<std::string> found;
    std::string self = std::to_string(::getpid());
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string pid = entry.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string stat = first_line(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 1));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == self && state != "Z")
            found.push_back("process " + pid + " (" + first_line(entry.path() / "comm") + ")");
    }
    return found;
}

// Every cgroup hierarchy's mount point.
std::vector<fs::path> cgroup_mounts() {
    std::vector<fs::path> mounts;
    std::ifstream in("/proc/self/mounts");
    std::string device, point, type, rest;
    while (in >> device >> point >> type && std::getline(in, rest))
        if (type == "cgroup" || type == "cgroup2") mounts.push_back(point);
    return mounts;
}

// LXC's cgroups of a container in our VMID range: lxc.payload.<vmid> and
// lxc.monitor.<vmid>, with liblxc's "-<n>" suffix when the name was taken.
std::vector<std::string> our_cgroups() {
    std::vector<std::string> found;
    for (const auto& mount : cgroup_mounts()) {
        std::error_code ec;
        for (fs::directory_iterator it(mount, ec), end; !ec && it != end; it.increment(ec)) {
            std::string name = it->path().filename().string();
            for (std::string prefix : {"lxc.payload.", "lxc.monitor."}) {
                if (!name.starts_with(prefix)) continue;
                std::string digits = name.substr(prefix.size(), name.find('-') - prefix.size());
                if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
                    continue;
                auto vmid = std::stoul(digits);
                if (vmid >= vmid_min && vmid <= vmid_max) found.push_back("cgroup " + it->path().string());
            }
        }
    }
    return found;
}

std::map<std::string, lxcri::Vmid> mapping_of(const fs::path& state_dir) {
    std::map<std::string, lxcri::Vmid> result;
    for (const auto& [id, entry] : lxcri::MappingStore(state_dir).read()) result[id] = entry.vmid;
    return result;
}

// One backend's world: private --root, --state-dir and lxcpath, a busybox
// bundle whose process sleeps, and the checks.
struct World {
    std::string backend;
    TempDir tmp;
    fs::path root = tmp / "run";
    fs::path state = tmp / "state";
    fs::path lxcpath = tmp / "lxc";
    fs::path config = tmp / "config";
    fs::path bundle = tmp / "bundle";

    explicit World(std::string backend_name, const fs::path& small = {}) : backend(std::move(backend_name)) {
        ::chmod(tmp.path().c_str(), 0755);
        if (!small.empty()) {
            root = small / "run";
            state = small / "state";
        }
        fs::create_directories(lxcpath);
        lxcri::test::write_text(config, "backend = " + backend + "\nmapping = incremental\nvmid-min = " +
                                            std::to_string(vmid_min) + "\nvmid-max = " + std::to_string(vmid_max) +
                                            "\n[lxc]\nlxcpath = " + lxcpath.string() + "\n");
        fs::path rootfs = tmp / "rootfs";
        fs::create_directories(rootfs / "bin");
        fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
        for (const char* applet : {"sh", "sleep", "true"}) fs::create_symlink("busybox", rootfs / "bin" / applet);
        for (const char* dir : {"proc", "sys", "dev", "tmp", "etc"}) fs::create_directories(rootfs / dir);
        auto r = lxcri::test::run({LXCRI_BINARY, "bundle", "create", bundle.string(), "--rootfs", rootfs.string(),
                                   "--quiet", "--arg", "/bin/sleep", "--arg", "1000"});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "bundle create: " + r.err);
    }

    ~World() { scrub(); }

    bool lxc() const { return backend == "lxc"; }

    std::vector<std::string> argv(const std::vector<std::string>& args) const {
        std::vector<std::string> all{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string()};
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }

    lxcri::test::RunOptions options() const {
        lxcri::test::RunOptions o;
        o.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
        return o;
    }

    // A create's monitor keeps the create's stdout and stderr: files, not
    // our pipes (which would stay open while it runs).
    RunResult cli(const std::vector<std::string>& args) const {
        auto o = options();
        if (args.empty() || args[0] != "create") return lxcri::test::run(argv(args), o);
        static std::atomic<int> calls{0};
        fs::path err = tmp / ("create-" + std::to_string(calls++) + ".err");
        o.stdout_file = tmp / "container.out";
        o.stderr_file = err;
        RunResult r = lxcri::test::run(argv(args), o);
        r.err = lxcri::test::read_text(err);
        fs::remove(err);
        return r;
    }

    int spawn(const std::vector<std::string>& args) const {
        auto o = options();
        o.stdout_file = tmp / "container.out";
        o.stderr_file = tmp / "spawned.err";
        return lxcri::test::spawn(argv(args), o);
    }

    std::vector<std::string> create_args(const std::string& id) const {
        return {"create", "--bundle", bundle.string(), "--pid-file", (tmp / (id + ".pid")).string(), id};
    }

    RunResult create(const std::string& id) const { return cli(create_args(id)); }

    std::string status(const std::string& id) const {
        auto r = cli({"state", id});
        if (r.exit_code != 0) return "error " + std::to_string(r.exit_code) + ": " + r.err;
        return std::string(lxcri::parse_json(r.out, "state").at("status").as_string());
    }

    // What a container of this world left behind, if anything.
    std::vector<std::string> leftovers(const std::string& id) const {
        std::vector<std::string> found;
        if (fs::exists(root / id)) found.push_back("runtime directory " + (root / id).string());
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(root / ".creating", ec))
            if (e.path().filename().string().starts_with(id + "."))
                found.push_back("a create's unclaimed directory " + e.path().string());
        try {
            for (const auto& [other, vmid] : mapping_of(state))
                found.push_back("mapping entry " + other + " -> " + std::to_string(vmid));
        } catch (const std::exception& e) {
            found.push_back(std::string("unreadable mapping: ") + e.what());
        }
        // What a killed create left in mapping/ (its saved entry, a
        // temporary file) is gone once a transaction has run.
        for (const auto& e : fs::directory_iterator(state / "mapping", ec))
            if (e.path().filename().string().starts_with("."))
                found.push_back("a create's leftover in the mapping " + e.path().string());
        if (lxc()) {
            for (const auto& e : fs::directory_iterator(lxcpath)) found.push_back("LXC config " + e.path().string());
            for (const auto& c : our_cgroups()) found.push_back(c);
        }
        for (const auto& p : live_children()) found.push_back(p);
        return found;
    }

    // After a fault: list, delete --force and a fresh create of the same id
    // work, and nothing is left. Returns what went wrong.
    std::vector<std::string> check(const std::string& id) const {
        std::vector<std::string> problems;
        auto note = [&](const std::string& what, const RunResult& r) {
            problems.push_back(what + ": exit " + std::to_string(r.exit_code) + ": " + r.err);
        };
        if (auto r = cli({"list", "--format", "json"}); r.exit_code != 0) note("list", r);
        if (auto r = cli({"delete", "--force", id}); r.exit_code != 0) note("delete --force", r);
        for (const auto& left : leftovers(id)) problems.push_back("after delete --force: " + left);
        if (!problems.empty()) return problems;
        if (auto r = create(id); r.exit_code != 0) note("a fresh create", r);
        if (auto r = cli({"delete", "--force", id}); r.exit_code != 0) note("delete --force of the fresh one", r);
        for (const auto& left : leftovers(id)) problems.push_back("after the fresh create: " + left);
        return problems;
    }

    // Removes by hand whatever a failed check found, so that the next round
    // starts clean: processes, cgroups, LXC configs, state.
    void scrub() const {
        for (int round = 0; round < 50; ++round) {
            bool any = false;
            std::string self = std::to_string(::getpid());
            for (const auto& child : live_children()) {
                any = true;
                ::kill(std::stoi(child.substr(8)), SIGKILL);
            }
            for (const auto& c : our_cgroups()) {
                fs::path dir = c.substr(7);
                std::ifstream procs(dir / "cgroup.procs");
                for (int pid; procs >> pid;) ::kill(pid, SIGKILL);
                any = true;
                // Children first.
                std::vector<fs::path> dirs;
                for (const auto& e : fs::recursive_directory_iterator(dir))
                    if (e.is_directory()) dirs.push_back(e.path());
                std::sort(dirs.rbegin(), dirs.rend());
                for (const auto& d : dirs) ::rmdir(d.c_str());
                ::rmdir(dir.c_str());
            }
            if (!any) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(lxcpath, ec)) fs::remove_all(e.path(), ec);
        fs::remove_all(root, ec);
        fs::remove_all(state, ec);
    }
};

// A loop's figures, printed and checked at its end.
struct Tally {
    std::string what;
    int tried = 0;
    int killed = 0;  // the command was killed before it finished (the rest finished first)
    int inconsistent = 0;

    // One fault: `problems` found so far, then world.check(id)'s.
    void record(World& world, const std::string& id, bool was_killed, const std::string& detail,
                std::vector<std::string> problems = {}) {
        ++tried;
        killed += was_killed;
        for (auto& p : world.check(id)) problems.push_back(std::move(p));
        if (problems.empty()) return;
        ++inconsistent;
        std::string all;
        for (const auto& p : problems) all += "\n  " + p;
        BOOST_ERROR(what << " #" << tried << " (" << detail << "):" << all);
        world.scrub();
    }

    ~Tally() {
        BOOST_TEST_MESSAGE("faults: " << what << ": tried " << tried << ", killed " << killed << ", inconsistent "
                                      << inconsistent);
        BOOST_CHECK_EQUAL(inconsistent, 0);
    }
};

// How long a command takes when nothing kills it (median of three, in us).
template <class Prepare, class Command>
long calibrate(World& world, Prepare prepare, Command command) {
    std::vector<long> times;
    for (int i = 0; i < 3; ++i) {
        prepare();
        auto start = Clock::now();
        auto r = world.cli(command());
        times.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "calibration: " << r.err);
        auto problems = world.check("victim");
        std::string all;
        for (const auto& p : problems) all += "\n  " + p;
        BOOST_REQUIRE_MESSAGE(problems.empty(), "calibration left:" << all);
    }
    std::sort(times.begin(), times.end());
    return times[1];
}

// Runs `command` and SIGKILLs it after a random part of its usual duration
// (a little more than all of it, so that some runs finish); true when the
// kill came first.
bool kill_at_random(World& world, const std::vector<std::string>& command, long usual_us, std::mt19937& rng) {
    std::uniform_int_distribution<long> delay(0, usual_us * 12 / 10);
    int pid = world.spawn(command);
    std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
    ::kill(pid, SIGKILL);
    int code = lxcri::test::wait_child(pid, 120000);
    return code == 128 + SIGKILL;
}

void kill_loop(const std::string& backend) {
    World world(backend);
    std::mt19937 rng(static_cast<unsigned>(env_number("LXCRI_FAULT_SEED", 11)));
    const int runs = env_number("LXCRI_FAULT_RUNS", 50);
    const std::string id = "victim";
    auto nothing = [] {};
    auto created = [&] { BOOST_REQUIRE_MESSAGE(world.create(id).exit_code == 0, "create"); };
    auto running = [&] {
        created();
        BOOST_REQUIRE(world.cli({"start", id}).exit_code == 0);
    };

    {
        long usual = calibrate(world, nothing, [&] { return world.create_args(id); });
        Tally tally{backend + ": kill -9 of create"};
        for (int i = 0; i < runs; ++i)
            tally.record(world, id, kill_at_random(world, world.create_args(id), usual, rng), "create");
    }
    {
        long usual = calibrate(world, created, [&] { return std::vector<std::string>{"start", id}; });
        Tally tally{backend + ": kill -9 of start"};
        for (int i = 0; i < runs / 2; ++i) {
            created();
            tally.record(world, id, kill_at_random(world, {"start", id}, usual, rng), "start");
        }
    }
    {
        long usual = calibrate(world, running, [&] { return std::vector<std::string>{"delete", "--force", id}; });
        Tally tally{backend + ": kill -9 of delete --force"};
        for (int i = 0; i < runs / 2; ++i) {
            bool started = i % 2 == 1;
            started ? running() : created();
            tally.record(world, id, kill_at_random(world, {"delete", "--force", id}, usual, rng),
                         started ? "delete of a running container" : "delete of a created container");
        }
    }
}

// A tmpfs of its own, unmounted on destruction.
struct SmallDisk {
    fs::path dir;
    SmallDisk(const fs::path& where, const std::string& options) : dir(where) {
        fs::create_directories(dir);
        BOOST_REQUIRE_MESSAGE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0,
                              "mount tmpfs: " << std::strerror(errno));
    }
    ~SmallDisk() { ::umount2(dir.c_str(), MNT_DETACH); }

    // Fills the file system up: its blocks (one file), or its inodes (empty
    // files); then frees `free` of them.
    void fill(bool inodes, int free) const {
        fs::create_directories(dir / "filler");
        if (inodes) {
            int count = 0;
            for (;; ++count) {
                int fd = ::open((dir / "filler" / std::to_string(count)).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd < 0) break;
                ::close(fd);
            }
            for (int i = 0; i < std::min(free, count); ++i) fs::remove(dir / "filler" / std::to_string(i));
            return;
        }
        int fd = ::open((dir / "filler" / "blocks").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        static const std::string page(4096, 'x');
        while (::write(fd, page.data(), page.size()) > 0) {
        }
        off_t size = ::lseek(fd, 0, SEEK_END);
        BOOST_REQUIRE(::ftruncate(fd, std::max<off_t>(0, size - off_t(free) * 4096)) == 0);
        ::close(fd);
    }

    void unfill() const { fs::remove_all(dir / "filler"); }
};

void full_disk(const std::string& backend, bool inodes) {
    TempDir mount_point;
    // Enough for a few containers' state, small enough to fill at once.
    SmallDisk disk(mount_point / "small", inodes ? "size=4m,nr_inodes=200,mode=0755" : "size=256k,mode=0755");
    World world(backend, disk.dir);
    const std::string id = "full";
    Tally tally{backend + (inodes ? ": no inode left" : ": no space left")};
    int made = 0;
    for (int free = 0; free <= 40 && made < 3; ++free) {
        // Everything the runtime makes before a container exists.
        world.create("warm-up");
        world.cli({"delete", "--force", "warm-up"});
        disk.fill(inodes, free);
        auto r = world.create(id);
        std::vector<std::string> problems;
        if (r.exit_code == 0) {
            ++made;
            // On a full disk, start and kill either take effect and exit 0,
            // or change nothing and fail.
            disk.fill(inodes, 0);
            auto started = world.cli({"start", id});
            std::string after_start = world.status(id);
            if (started.exit_code == 0 ? after_start != "running" : after_start != "created")
                problems.push_back("start exited " + std::to_string(started.exit_code) + " (" + started.err +
                                   ") and left the container " + after_start);
            auto killed = world.cli({"kill", id, "KILL"});
            for (int i = 0; i < 200 && world.status(id) == "running"; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::string after_kill = world.status(id);
            if (killed.exit_code == 0 ? after_kill != "stopped" : after_kill != after_start)
                problems.push_back("kill exited " + std::to_string(killed.exit_code) + " (" + killed.err +
                                   ") and left the container " + after_kill);
            // delete --force removes it all, or fails before it removes
            // anything, naming the full disk.
            std::string before_delete = world.status(id);
            auto deleted = world.cli({"delete", "--force", id});
            if (deleted.exit_code == 0) {
                for (const auto& left : world.leftovers(id)) problems.push_back("after delete on a full disk: " + left);
            } else if (deleted.err.find("No space left on device") == std::string::npos) {
                problems.push_back("delete --force on a full disk failed without naming it: " + deleted.err);
            } else if (world.status(id) != before_delete) {
                problems.push_back("a failed delete --force on a full disk left the container " + world.status(id) +
                                   " (was " + before_delete + ")");
            }
        } else {
            if (r.err.find("No space left on device") == std::string::npos)
                problems.push_back("create failed without naming the full disk: " + r.err);
            for (const auto& left : world.leftovers(id)) problems.push_back("after a failed create: " + left);
        }
        disk.unfill();
        tally.record(world, id, r.exit_code != 0, std::to_string(free) + " free", problems);
    }
    BOOST_CHECK_MESSAGE(made > 0, tally.what << ": no create succeeded, the disk was too small");
}

// Ways to damage a file the runtime wrote: the new content, or nullopt to
// remove it; `special` replaces it by something that is not a file.
struct Damage {
    std::string name;
    std::function<std::optional<std::string>(const std::string&)> content;
    std::function<void(const fs::path&)> special;
};

std::vector<Damage> state_damages() {
    auto set = [](std::string key, std::string value) {
        return [key, value](const std::string& text) -> std::optional<std::string> {
            auto doc = lxcri::parse_json(text, "state").as_object();
            doc[key] = lxcri::parse_json(value, "value");
            return json::serialize(doc);
        };
    };
    auto drop = [](std::string key) {
        return [key](const std::string& text) -> std::optional<std::string> {
            auto doc = lxcri::parse_json(text, "state").as_object();
            doc.erase(key);
            return json::serialize(doc);
        };
    };
    auto text = [](std::string t) { return [t](const std::string&) -> std::optional<std::string> { return t; }; };
    return {
        {"missing", [](const std::string&) { return std::nullopt; }, {}},
        {"empty", text(""), {}},
        {"truncated", [](const std::string& t) -> std::optional<std::string> { return t.substr(0, t.size() / 2); }, {}},
        {"garbage", text(std::string("\x7f" "ELF\x01\x02\0\0 garbage", 16)), {}},
        {"not an object", text("[1, 2, 3]"), {}},
        {"null", text("null"), {}},
        {"vmid a string", set("vmid", "\"100\""), {}},
        {"vmid negative", set("vmid", "-5"), {}},
        {"vmid 2^40", set("vmid", "1099511627776"), {}},
        {"vmid missing", drop("vmid"), {}},
        {"id of another container", set("id", "\"someone-else\""), {}},
        {"backend unknown", set("backend", "\"nope\""), {}},
        {"backend not a plugin name", set("backend", "\"../../x\""), {}},
        {"backend missing", drop("backend"), {}},
        {"status unknown", set("status", "\"exploded\""), {}},
        {"pid a string", set("pid", "\"1\""), {}},
        {"bundle a number", set("bundle", "5"), {}},
        {"a directory", {}, [](const fs::path& p) { fs::create_directory(p); }},
        {"a symlink to /etc/passwd", {}, [](const fs::path& p) { fs::create_symlink("/etc/passwd", p); }},
        {"a fifo", {}, [](const fs::path& p) { ::mkfifo(p.c_str(), 0600); }},
    };
}

void apply(const Damage& damage, const fs::path& file) {
    std::string original = lxcri::test::read_text(file);
    fs::remove(file);
    if (damage.special) return damage.special(file);
    if (auto content = damage.content(original)) lxcri::test::write_text(file, *content);
}

void damaged_state(const std::string& backend) {
    World world(backend);
    Tally tally{backend + ": damaged state.json"};
    for (const auto& damage : state_damages()) {
        for (bool started : {false, true}) {
            std::string id = "dmg";
            BOOST_REQUIRE(world.create(id).exit_code == 0);
            if (started) BOOST_REQUIRE(world.cli({"start", id}).exit_code == 0);
            apply(damage, world.root / id / "state.json");
            tally.record(world, id, false, damage.name + (started ? ", running" : ", created"));
        }
    }
}

// A damaged mapping entry is checked before anything is stopped: delete
// --force fails naming it and the container is as it was; once the entry is
// repaired, everything works. Without its entry, state.json says all.
void damaged_mapping(const std::string& backend) {
    World world(backend);
    Tally tally{backend + ": damaged mapping entry"};
    const std::string id = "dmgmap";
    fs::path dir = world.state / "mapping";
    auto text = [](std::string t) { return [t](const std::string&) -> std::optional<std::string> { return t; }; };
    auto edit = [](std::string from, std::string to) {
        return [from, to](const std::string& t) -> std::optional<std::string> {
            auto at = t.find(from);
            return at == std::string::npos ? t : t.substr(0, at) + to + t.substr(at + from.size());
        };
    };
    // The entry as it was, and its VMID's claim changed.
    auto claim = [&dir, &world, id](std::string target) {
        return [&dir, &world, id, target](const fs::path& p) {
            fs::rename(fs::path(p.string() + ".orig"), p);
            fs::path file = dir / ("@" + std::to_string(mapping_of(world.state).at(id)));
            fs::remove(file);
            if (!target.empty()) fs::create_symlink(target, file);
        };
    };
    std::vector<Damage> damages = {
        {"missing", [](const std::string&) { return std::nullopt; }, {}},
        {"empty", text(""), {}},
        {"truncated", [](const std::string& t) -> std::optional<std::string> { return t.substr(0, t.size() / 2); }, {}},
        {"garbage", text("\x7f" "ELF garbage"), {}},
        {"not an object", text("[]"), {}},
        {"vmid negative", edit("\"vmid\": ", "\"vmid\": -"), {}},
        {"backend a number", edit("\"backend\": \"", "\"backend\": 5, \"x\": \""), {}},
        {"backend a path", edit("\"backend\": \"", "\"backend\": \"../"), {}},
        {"a directory", {}, [](const fs::path& p) { fs::create_directory(p); }},
        {"its claim missing", {}, {}},
        {"its claim another id's", {}, {}},
    };
    damages[9].special = claim("");
    damages[10].special = claim("other");
    for (const auto& damage : damages) {
        for (bool started : {false, true}) {
            std::string detail = damage.name + (started ? ", running" : ", created");
            BOOST_REQUIRE(world.create(id).exit_code == 0);
            if (started) BOOST_REQUIRE(world.cli({"start", id}).exit_code == 0);
            std::string status = world.status(id);
            fs::path file = dir / id;
            fs::path claim_file = dir / ("@" + std::to_string(mapping_of(world.state).at(id)));
            std::string original = lxcri::test::read_text(file);
            fs::copy_file(file, fs::path(file.string() + ".orig"));
            apply(damage, file);
            std::vector<std::string> problems;
            if (damage.name != "missing") {
                auto r = world.cli({"delete", "--force", id});
                if (r.exit_code == 0 || r.err.find(dir.string()) == std::string::npos)
                    problems.push_back("delete --force with a damaged mapping: exit " + std::to_string(r.exit_code) +
                                       ": " + r.err);
                if (world.status(id) != status)
                    problems.push_back("the container was " + status + " and is " + world.status(id));
                if (auto l = world.cli({"list"}); l.exit_code != 0) problems.push_back("list: " + l.err);
            }
            // Repaired: only the entry and its claim, as they were.
            for (const auto& e : fs::directory_iterator(dir))
                if (e.path() != file) fs::remove_all(e.path());
            if (damage.name != "missing") {
                fs::remove_all(file);
                lxcri::test::write_text(file, original);
                fs::create_symlink(id, claim_file);
            }
            tally.record(world, id, false, detail, problems);
        }
    }
}

// Concurrent delete --force of one id all exit 0; concurrent creates and
// deletes of one id leave either the container or nothing.
void concurrent(const std::string& backend) {
    World world(backend);
    const std::string id = "race";
    Tally deletes{backend + ": concurrent delete --force"};
    for (int round = 0; round < 10; ++round) {
        BOOST_REQUIRE(world.create(id).exit_code == 0);
        if (round % 2) BOOST_REQUIRE(world.cli({"start", id}).exit_code == 0);
        std::vector<RunResult> results(8);
        std::vector<std::thread> threads;
        for (auto& r : results) threads.emplace_back([&] { r = world.cli({"delete", "--force", id}); });
        for (auto& t : threads) t.join();
        std::vector<std::string> problems;
        for (const auto& r : results)
            if (r.exit_code != 0) problems.push_back("delete --force: exit " + std::to_string(r.exit_code) + ": " + r.err);
        deletes.record(world, id, false, "round " + std::to_string(round), problems);
    }
    Tally mixed{backend + ": concurrent create and delete --force"};
    for (int round = 0; round < 10; ++round) {
        std::vector<RunResult> creates(3), removes(3);
        std::vector<std::thread> threads;
        for (int i = 0; i < 3; ++i) {
            threads.emplace_back([&, i] { creates[i] = world.create(id); });
            threads.emplace_back([&, i] { removes[i] = world.cli({"delete", "--force", id}); });
        }
        for (auto& t : threads) t.join();
        std::vector<std::string> problems;
        for (const auto& r : creates)
            if (r.exit_code != 0 && r.exit_code != 5)
                problems.push_back("create: exit " + std::to_string(r.exit_code) + ": " + r.err);
        for (const auto& r : removes)
            if (r.exit_code != 0) problems.push_back("delete --force: exit " + std::to_string(r.exit_code) + ": " + r.err);
        // Whoever won: the container is whole (state answers) or gone.
        if (fs::exists(world.root / id))
            if (auto r = world.cli({"state", id}); r.exit_code != 0)
                problems.push_back("the container left by the race does not answer state: " + r.err);
        mixed.record(world, id, false, "round " + std::to_string(round), problems);
    }
}

}  // namespace

BOOST_GLOBAL_FIXTURE(Subreaper);

BOOST_AUTO_TEST_CASE(kill_9_at_random_moments_dry_run) { kill_loop("dry-run"); }
BOOST_AUTO_TEST_CASE(kill_9_at_random_moments_lxc) { kill_loop("lxc"); }

BOOST_AUTO_TEST_CASE(full_disk_dry_run) {
    full_disk("dry-run", false);
    full_disk("dry-run", true);
}
BOOST_AUTO_TEST_CASE(full_disk_lxc) {
    full_disk("lxc", false);
    full_disk("lxc", true);
}

BOOST_AUTO_TEST_CASE(damaged_state_dry_run) { damaged_state("dry-run"); }
BOOST_AUTO_TEST_CASE(damaged_state_lxc) { damaged_state("lxc"); }

BOOST_AUTO_TEST_CASE(damaged_mapping_dry_run) { damaged_mapping("dry-run"); }
BOOST_AUTO_TEST_CASE(damaged_mapping_lxc) { damaged_mapping("lxc"); }

BOOST_AUTO_TEST_CASE(concurrent_create_and_delete_dry_run) { concurrent("dry-run"); }
BOOST_AUTO_TEST_CASE(concurrent_create_and_delete_lxc) { concurrent("lxc"); }
