#include "archive_sandbox.hpp"

#include "fuzz_support.hpp"

#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::fuzz {
namespace {

// Canaries keep this mtime: any change to one is a change made by an entry.
constexpr timespec canary_time{1000000000, 123456789};

struct Node {
    mode_t mode = 0;  // type and permissions
    uid_t uid = 0;
    gid_t gid = 0;
    off_t size = 0;
    timespec mtime{};
    std::string content;  // file content or symlink target
};

std::map<std::string, Node> baseline;

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

void set_canary_time(const fs::path& path) {
    const timespec times[2] = {canary_time, canary_time};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("utimensat " + path.string());
}

void make_canaries() {
    for (const char* dir : {"input", "cwd", "cwd/etc", "cwd/etcx", "outside-dir", "bundle", "layer"}) {
        fs::create_directory(scratch_dir() / dir);
        fs::permissions(scratch_dir() / dir, fs::perms(0751));
    }
    for (const char* file : {"cwd/file", "cwd/etc/passwd", "outside", "outside-dir/file", "bundle/config.json",
                             "layer/marker"}) {
        write_file(scratch_dir() / file, std::string("canary ") + file + "\n");
        fs::permissions(scratch_dir() / file, fs::perms(0640));
    }
    fs::create_symlink("..", scratch_dir() / "cwd" / "up");
    // Deepest first, so that making a child does not touch its parent's time afterwards.
    std::vector<fs::path> all;
    for (const auto& entry : fs::recursive_directory_iterator(scratch_dir())) all.push_back(entry.path());
    for (auto it = all.rbegin(); it != all.rend(); ++it) set_canary_time(*it);
    set_canary_time(scratch_dir());
}

// The canaries as they are: every path of the tmpfs but the input and the targets.
std::map<std::string, Node> snapshot() {
    std::map<std::string, Node> nodes;
    std::vector<fs::path> pending{scratch_dir()};
    while (!pending.empty()) {
        fs::path path = pending.back();
        pending.pop_back();
        if (path == scratch_dir() / "input" || path == sandbox_bundle_rootfs() || path == sandbox_layer_rootfs()) continue;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) fail_errno("lstat " + path.string());
        Node node{st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtim, {}};
        // Making and removing a target changes its parent's mtime and size
        // (tmpfs counts entries); nothing else may.
        if (path == scratch_dir() / "bundle" || path == scratch_dir() / "layer") node.mtime = {}, node.size = 0;
        if (S_ISREG(st.st_mode)) {
            std::ifstream in(path, std::ios::binary);
            node.content.assign(std::istreambuf_iterator<char>(in), {});
        } else if (S_ISLNK(st.st_mode)) {
            node.content = fs::read_symlink(path).string();
        } else if (S_ISDIR(st.st_mode)) {
            for (const auto& entry : fs::directory_iterator(path)) pending.push_back(entry.path());
        }
        nodes.emplace(path.string(), std::move(node));
    }
    return nodes;
}

std::string describe(const Node& n) {
    std::ostringstream out;
    out << std::oct << "mode " << n.mode << std::dec << ", owner " << n.uid << ":" << n.gid << ", size " << n.size
        << ", mtime " << n.mtime.tv_sec << "." << n.mtime.tv_nsec;
    return out.str();
}

void check_canaries() {
    auto now = snapshot();
    for (const auto& [path, before] : baseline) {
        auto it = now.find(path);
        if (it == now.end()) fail("canary " + path + " was removed");
        const Node& after = it->second;
        if (after.mode != before.mode || after.uid != before.uid || after.gid != before.gid ||
            after.size != before.size || after.mtime.tv_sec != before.mtime.tv_sec ||
            after.mtime.tv_nsec != before.mtime.tv_nsec || after.content != before.content)
            fail("canary " + path + " changed: was " + describe(before) + ", is " + describe(after));
    }
    for (const auto& [path, node] : now)
        if (!baseline.count(path)) fail(path + " appeared beside the target");
}

void fill_lower_layer(const fs::path& rootfs) {
    for (const char* dir : {"etc", "usr/bin", "var/lib", "opaque/keep"}) fs::create_directories(rootfs / dir);
    for (const char* file : {"etc/passwd", "usr/bin/sh", "var/lib/data", "opaque/keep/file"})
        write_file(rootfs / file, std::string("lower ") + file + "\n");
    fs::create_symlink("usr/bin", rootfs / "bin");
    fs::create_symlink("/", rootfs / "host-root");
    fs::create_symlink("../..", rootfs / "up");
    fs::create_symlink(scratch_dir() / "outside", rootfs / "to-canary");
    fs::create_hard_link(rootfs / "etc/passwd", rootfs / "etc/passwd-link");
}

void reset_targets() {
    std::error_code ec;
    fs::remove_all(sandbox_bundle_rootfs(), ec);
    if (ec) fail("remove " + sandbox_bundle_rootfs().string() + ": " + ec.message());
    fs::remove_all(sandbox_layer_rootfs(), ec);
    if (ec) fail("remove " + sandbox_layer_rootfs().string() + ": " + ec.message());
    fs::create_directory(sandbox_layer_rootfs());
    fill_lower_layer(sandbox_layer_rootfs());
}

}  // namespace

fs::path sandbox_input() { return scratch_dir() / "input" / "archive"; }
fs::path sandbox_bundle_rootfs() { return scratch_dir() / "bundle" / "rootfs"; }
fs::path sandbox_layer_rootfs() { return scratch_dir() / "layer" / "rootfs"; }

void enter_archive_sandbox(int argc, char** argv) {
    enter_sandbox(argc, argv);
    make_canaries();
    reset_targets();
    baseline = snapshot();
    check_canaries();
}


void extract_among_canaries(const std::uint8_t* data, std::size_t size, const std::function<void()>& extract) {
    write_input(sandbox_input(), data, size);
    UniqueFd previous(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!previous) fail_errno("open the working directory");
    if (::chdir((scratch_dir() / "cwd").c_str()) != 0) fail_errno("chdir");
    try {
        extract();
    } catch (const Error& e) {
        check_message(e, as_text(data, size));
    }
    if (::fchdir(previous.get()) != 0) fail_errno("fchdir");
    check_canaries();
    reset_targets();
}

}  // namespace lxcri::fuzz
