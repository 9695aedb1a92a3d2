#include "template_cache.hpp"

#include "pct_plan.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/log.hpp>
#include <lxcri/process.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace lxcri::pct {
namespace {

constexpr std::string_view users_prefix = ".proxmox-lxcri-";
constexpr std::string_view users_suffix = ".users";

fs::path users_file(const fs::path& dir, const std::string& digest) {
    return dir / (std::string(users_prefix) + digest + std::string(users_suffix));
}

// The users file, opened and locked. A releaser may unlink it while we wait
// for the lock: then the locked inode is no longer the path's, so try again.
UniqueFd lock_users(const fs::path& file) {
    for (;;) {
        UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (fd.get() < 0) throw_errno("open " + file.string(), errno);
        if (::flock(fd.get(), LOCK_EX) != 0) throw_errno("lock " + file.string(), errno);
        struct stat locked {}, current {};
        if (::fstat(fd.get(), &locked) == 0 && ::stat(file.c_str(), &current) == 0 && locked.st_ino == current.st_ino &&
            locked.st_dev == current.st_dev)
            return fd;
    }
}

// One line per user: "<vmid> <container id> <node>". The claimant (id and
// node) tells apart two creates that claimed one VMID in a race (on two
// nodes, which may use one id, or a create that retries with another
// VMID): the loser's release must not take the winner's claim, and with it
// the archive the winner is about to unpack. One node never runs two
// creates of one id at once (the core locks the id). A line of 0.1 has the
// VMID alone (claimant empty), released by its VMID; nodes that share a
// template-dir must all run this version or later (PROXMOX.md).
using Users = std::set<std::pair<Vmid, std::string>>;

Users read_users(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    ::lseek(fd, 0, SEEK_SET);
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    Users users;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::string number = line.substr(0, line.find(' '));
        std::string claimed_by = number.size() < line.size() ? line.substr(number.size() + 1) : "";
        if (!number.empty() && number.size() < 10 && number.find_first_not_of("0123456789") == std::string::npos)
            users.emplace(static_cast<Vmid>(std::stoul(number)), claimed_by);
    }
    return users;
}

// In place: the file's inode is the lock.
void write_users(int fd, const fs::path& file, const Users& users) {
    std::string text;
    for (const auto& [vmid, claimed_by] : users)
        text += std::to_string(vmid) + (claimed_by.empty() ? "" : " " + claimed_by) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd) != 0)
        throw_errno("write " + file.string(), errno);
}

// Who claims a VMID: the container id on this node (Proxmox's node name is
// the host name).
std::string claimant(const std::string& id) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string node = host;
    node = node.substr(0, node.find('.'));
    return id + " " + (node.empty() ? "-" : node);
}

// The claim of (vmid, id) on this node, or a 0.1 line of that VMID.
bool erase_user(Users& users, Vmid vmid, const std::string& id) {
    return users.erase({vmid, claimant(id)}) + users.erase({vmid, ""}) > 0;
}

}  // namespace

void TemplateCache::acquire(const fs::path& rootfs, const std::string& digest,
                            const std::vector<TemplateMountPoint>& mount_points, Vmid vmid,
                            const std::string& id) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw Error(Errc::failed, "pct.template-dir: cannot create " + dir_.string() + ": " + ec.message());
    fs::path file = users_file(dir_, digest);
    UniqueFd fd = lock_users(file);
    if (fs::exists(dir_ / pct_template_name(digest), ec))
        log::debug("pct: template " + pct_template_name(digest) + " is cached");
    else
        pack(rootfs, digest, mount_points);
    auto users = read_users(fd.get());
    users.emplace(vmid, claimant(id));
    write_users(fd.get(), file, users);
}

void TemplateCache::release(Vmid vmid, const std::string& id) {
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!name.starts_with(users_prefix) || !name.ends_with(users_suffix)) continue;
        std::string digest = name.substr(users_prefix.size(), name.size() - users_prefix.size() - users_suffix.size());
        UniqueFd fd = lock_users(it->path());
        auto users = read_users(fd.get());
        if (!erase_user(users, vmid, id)) {
            if (users.empty() && !fs::exists(dir_ / pct_template_name(digest))) ::unlink(it->path().c_str());
            continue;
        }
        if (!users.empty()) {
            write_users(fd.get(), it->path(), users);
            continue;
        }
        std::error_code remove_ec;
        fs::remove(dir_ / pct_template_name(digest), remove_ec);
        if (remove_ec) log::warning("pct: cannot remove template " + pct_template_name(digest) + ": " + remove_ec.message());
        ::unlink(it->path().c_str());  // still locked: a waiting acquirer sees the inode change
    }
}

void TemplateCache::pack(const fs::path& rootfs, const std::string& digest,
                         const std::vector<TemplateMountPoint>& mount_points) {
    std::string name = pct_template_name(digest);
    std::string pid = std::to_string(::getpid());
    fs::path partial = dir_ / ("." + name + ".partial-" + pid);
    // The helper's mount point, in every template, and the spec's mount
    // targets a read-only rootfs lacks: it cannot get them later.
    fs::path extra = dir_ / ("." + name + ".extra-" + pid);
    auto cleanup = [&] {
        std::error_code ec;
        fs::remove(partial, ec);
        fs::remove_all(extra, ec);
    };
    struct stat st {};
    if (::lstat((rootfs / ".lxcri").c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
        throw Error(Errc::invalid_input, (rootfs / ".lxcri").string() + " exists and is not a directory");
    try {
        fs::create_directories(extra / ".lxcri");
        fs::permissions(extra / ".lxcri", fs::perms(0755));
        std::vector<std::string> argv{"tar", "--create", "--file", partial.string(), "--zstd", "--numeric-owner",
                                      "--xattrs", "--acls", "--one-file-system", "--sort=name", "-C",
                                      rootfs.string(), ".", "-C", extra.string(), "--no-recursion", "./.lxcri"};
        for (const auto& point : mount_points) {  // parents first
            fs::path at = extra / point.path;
            fs::create_directories(at.parent_path());  // not packed (--no-recursion): the rootfs has them
            if (point.file)
                write_file_atomic(at, "", 0644);
            else
                fs::create_directory(at);
            fs::permissions(at, fs::perms(point.file ? 0644 : 0755));
            argv.push_back("./" + point.path);
        }
        auto result = run_process("tar", argv);
        if (result.exit_code != 0)
            throw Error(Errc::failed, "pack " + rootfs.string() + " as a CT template: " + result.err);
        fs::permissions(partial, fs::perms(0644));
        fs::rename(partial, dir_ / name);
    } catch (const fs::filesystem_error& e) {
        cleanup();
        throw Error(Errc::failed, "pack " + rootfs.string() + " as a CT template: " + e.what());
    } catch (...) {
        cleanup();
        throw;
    }
    std::error_code ec;
    fs::remove_all(extra, ec);
    log::debug("pct: packed " + rootfs.string() + " as " + (dir_ / name).string());
}

}  // namespace lxcri::pct
