#include "fuzz_support.hpp"

#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::fuzz {
namespace {

// The tmpfs's mount point. A function, as scratch_dir(): they may be
// called during the static initialisation of another file.
const fs::path& sandbox() {
    static const fs::path path = "/dev/shm";
    return path;
}

bool is_at_or_below(const fs::path& path, const fs::path& dir) {
    auto rel = path.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != "..";
}

// Every mount point of this namespace, from /proc/self/mountinfo (octal escapes decoded).
std::vector<fs::path> mount_points() {
    std::ifstream in("/proc/self/mountinfo");
    std::vector<fs::path> points;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        std::string decoded;
        for (std::size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                decoded += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                decoded += point[i];
            }
        }
        points.emplace_back(decoded);
    }
    return points;
}

// The directories libFuzzer writes: the working directory, the corpus
// directories, the artifact directory.
std::vector<fs::path> writable_dirs(int argc, char** argv) {
    std::vector<fs::path> dirs{fs::current_path()};
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        for (std::string flag : {"-artifact_prefix=", "-exact_artifact_path="}) {
            if (arg.rfind(flag, 0) != 0) continue;
            std::string value = arg.substr(flag.size());
            fs::path dir = value.ends_with('/') ? fs::path(value) : fs::path(value).parent_path();
            dirs.push_back(dir.empty() ? fs::current_path() : fs::absolute(dir));
        }
        std::error_code ec;
        if (!arg.starts_with("-") && fs::is_directory(arg, ec)) dirs.push_back(fs::absolute(arg));
    }
    for (auto& dir : dirs) {
        std::error_code ec;
        fs::path canonical = fs::canonical(dir, ec);
        if (ec) fail("libFuzzer's directory " + dir.string() + " does not exist");
        if (is_at_or_below(canonical, sandbox()) || canonical == sandbox())
            fail(canonical.string() + " is under " + sandbox().string() + ", which the sandbox covers");
        dir = canonical;
    }
    return dirs;
}

void write_proc(const std::string& file, const std::string& text) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        fail_errno("write " + file);
}

void enter_namespaces() {
    if (::geteuid() == 0) {
        if (::unshare(CLONE_NEWNS) != 0) fail_errno("unshare(CLONE_NEWNS)");
        return;
    }
    // Not root: root of a user namespace of our own, which may mount.
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        fail_errno("unshare(CLONE_NEWUSER | CLONE_NEWNS): run as root, or allow unprivileged user namespaces");
    write_proc("/proc/self/setgroups", "deny");
    write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

// Every mount read-only but the tmpfs and libFuzzer's directories. Flags a
// mount was locked with (in a user namespace) must be kept.
void make_host_read_only(const std::vector<fs::path>& writable) {
    for (const fs::path& point : mount_points()) {
        if (point == sandbox() || is_at_or_below(point, sandbox())) continue;
        bool keep = false;
        for (const auto& dir : writable) keep = keep || point == dir || is_at_or_below(point, dir);
        if (keep) continue;
        struct statvfs vfs {};
        if (::statvfs(point.c_str(), &vfs) != 0) continue;  // hidden by a later mount
        unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
        if (vfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
        if (vfs.f_flag & ST_NODEV) flags |= MS_NODEV;
        if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
        if (vfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
        if (vfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
        if (vfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
        if (::mount(nullptr, point.c_str(), nullptr, flags, nullptr) != 0 && point == "/")
            fail_errno("remount / read-only");
    }
}

}  // namespace

void fail(const std::string& why) {
    std::fprintf(stderr, "\nlxcri fuzz: %s\n", why.c_str());
    std::fflush(stderr);
    std::abort();
}

void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

void check_message(const Error& error, std::string_view input) {
    // An echo of the input that is cut short ends in "..." before its
    // closing quote: without those dots, an id such as "x[boostq" cut to
    // 'x[boost...' does not read as the "[boost." of an error category.
    // (Dots inside the echo are the input's own and stay.)
    std::string message = error.what();
    for (const char* cut : {"...'", "...\""})
        for (auto at = message.find(cut); at != std::string::npos; at = message.find(cut, at)) message.erase(at, 3);
    for (std::string_view internal : {"[boost.", "boost::", "filesystem error:", "basic_ios", "std::"})
        if (message.find(internal) != std::string::npos && input.find(internal) == std::string_view::npos)
            fail("an error message shows a library's internals (" + std::string(internal) + "): " + error.what());
    if (message.empty()) fail("an error without a message");
}

const fs::path& scratch_dir() {
    static const fs::path dir = sandbox() / "scratch";
    return dir;
}

void enter_sandbox(int argc, char** argv) {
    std::vector<fs::path> writable = writable_dirs(argc, argv);
    enter_namespaces();
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail_errno("make / private");
    for (const auto& dir : writable)
        if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
            fail_errno("bind " + dir.string());
    // The working directory still lies on the mount below its bind mount,
    // which becomes read-only: move onto the writable one.
    if (::chdir(writable.front().c_str()) != 0) fail_errno("chdir " + writable.front().string());
    if (::mount("tmpfs", sandbox().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=0755") != 0)
        fail_errno("mount a tmpfs on " + sandbox().string());
    make_host_read_only(writable);
    if (::mkdir(scratch_dir().c_str(), 0755) != 0) fail_errno("mkdir " + scratch_dir().string());
}

void write_input(const fs::path& path, const std::uint8_t* data, std::size_t size) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) fail("open " + path.string() + ": " + std::strerror(errno));
    while (size > 0) {
        ssize_t n = ::write(fd.get(), data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("write " + path.string() + ": " + std::strerror(errno));
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

}  // namespace lxcri::fuzz
