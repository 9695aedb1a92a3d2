#define BOOST_TEST_MODULE bundle_rootfs
#include <boost/test/unit_test.hpp>

#include "bundle/bundle_generator.hpp"
#include "bundle/rootfs.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fs = std::filesystem;
using lxcri::Errc;
using lxcri::Error;
using lxcri::test::is_root;
using lxcri::test::read_text;
using lxcri::test::run;
using lxcri::test::TempDir;
using lxcri::test::write_text;
namespace bundle = lxcri::bundle;

namespace {

struct stat lstat_of(const fs::path& path) {
    struct stat st {};
    BOOST_REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path << ": " << std::strerror(errno));
    return st;
}

void set_mtime(const fs::path& path, time_t seconds, long nanoseconds = 0) {
    const timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::string xattr(const fs::path& path, const char* name) {
    char value[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
    return n < 0 ? std::string() : std::string(value, static_cast<size_t>(n));
}

// security.capability v2 granting CAP_NET_RAW, as setcap cap_net_raw+ep writes.
std::string net_raw_capability() {
    vfs_cap_data data{};
    data.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    data.data[0].permitted = 1u << CAP_NET_RAW;
    return std::string(reinterpret_cast<const char*>(&data), XATTR_CAPS_SZ_2);
}

// A tree with every kind of entry and attribute a rootfs may hold. Returns
// whether user.* xattrs work here.
bool make_source(const fs::path& src) {
    fs::create_directories(src / "usr/bin");
    fs::create_directories(src / "deep/a/b/c/d/e");
    fs::create_directories(src / "run");
    fs::create_directories(src / "dev");
    write_text(src / "etc/hostname", "test\n");
    write_text(src / "etc/secret", "s3cret\n");
    write_text(src / "usr/bin/tool", "#!/bin/sh\necho tool\n");
    write_text(src / "usr/bin/suid", "suid");
    write_text(src / "usr/bin/sgid", "sgid");
    write_text(src / "empty", "");
    write_text(src / "deep/a/b/c/d/e/leaf", "leaf");
    std::string big;
    for (int i = 0; i < 3 * 1024 * 1024 / 8; ++i) big += "0123456\n";
    write_text(src / "big", big);
    {
        int fd = ::open((src / "sparse").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        BOOST_REQUIRE(fd >= 0);
        BOOST_REQUIRE(::ftruncate(fd, 64 << 20) == 0);
        BOOST_REQUIRE(::pwrite(fd, "data", 4, 32 << 20) == 4);
        ::close(fd);
    }
    fs::create_directories(src / "tmp");
    fs::permissions(src / "tmp", fs::perms(01777));
    fs::permissions(src / "usr/bin/tool", fs::perms(0755));
    fs::permissions(src / "usr/bin/suid", fs::perms(04755));
    fs::permissions(src / "usr/bin/sgid", fs::perms(02755));
    fs::permissions(src / "etc/secret", fs::perms(0600));
    // Hard links, one inode with three names in two directories.
    fs::create_hard_link(src / "usr/bin/tool", src / "usr/bin/tool-link");
    fs::create_hard_link(src / "usr/bin/tool", src / "etc/tool-link");
    // Symlinks: relative, absolute, dangling, and one that points out.
    fs::create_directory_symlink("usr/bin", src / "bin");
    fs::create_symlink("/etc/passwd", src / "etc/abs");
    fs::create_symlink("nowhere", src / "dangling");
    fs::create_directory_symlink("../../../../../../etc", src / "escape");
    BOOST_REQUIRE(::mkfifo((src / "run/fifo").c_str(), 0620) == 0);
    BOOST_REQUIRE(::mknod((src / "run/sock").c_str(), S_IFSOCK | 0755, 0) == 0);
    // A read-only directory with contents: the copy must still get them in.
    write_text(src / "ro/file", "ro");
    fs::permissions(src / "ro/file", fs::perms(0444));
    fs::permissions(src / "ro", fs::perms(0555));

    if (is_root()) {
        BOOST_REQUIRE(::mknod((src / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
        BOOST_REQUIRE(::mknod((src / "dev/loop200").c_str(), S_IFBLK | 0660, makedev(7, 200)) == 0);
        BOOST_REQUIRE(::chown((src / "etc/secret").c_str(), 1234, 5678) == 0);
        BOOST_REQUIRE(::lchown((src / "etc/abs").c_str(), 42, 43) == 0);
        BOOST_REQUIRE(::chown((src / "deep").c_str(), 100, 100) == 0);
        // chown cleared the bits; set them again, as a package would.
        BOOST_REQUIRE(::chown((src / "usr/bin/suid").c_str(), 0, 0) == 0);
        fs::permissions(src / "usr/bin/suid", fs::perms(04755));
        const std::string caps = net_raw_capability();
        BOOST_REQUIRE(::setxattr((src / "usr/bin/tool").c_str(), "security.capability", caps.data(), caps.size(), 0) ==
                      0);
    }
    bool xattrs = ::setxattr((src / "etc/hostname").c_str(), "user.lxcri.test", "file-value", 10, 0) == 0 &&
                  ::setxattr((src / "deep").c_str(), "user.lxcri.test", "dir-value", 9, 0) == 0;
    if (!xattrs) BOOST_TEST_MESSAGE("user.* xattrs not supported here: " << std::strerror(errno));

    // Times last: directories' after their contents are complete.
    set_mtime(src / "etc/hostname", 1000000000, 123456789);
    set_mtime(src / "bin", 1000000001);
    set_mtime(src / "run/fifo", 1000000002);
    set_mtime(src / "deep/a/b/c/d/e", 1000000003, 5);
    set_mtime(src / "deep", 1000000004);
    set_mtime(src / "ro", 1000000005);
    set_mtime(src, 1000000006);
    return xattrs;
}

// GNU tar as the independent judge of "same tree": mode, owner, size,
// content, mtime of files, symlink targets, device numbers and hard links.
void require_same_tree(const fs::path& src, const fs::path& dst, const fs::path& scratch) {
    const fs::path tar = scratch / "judge.tar";
    auto made = run({"tar", "--numeric-owner", "-C", src.string(), "-cf", tar.string(), "."});
    BOOST_REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    auto compared = run({"tar", "--compare", "--numeric-owner", "-f", tar.string(), "-C", dst.string()});
    BOOST_TEST(compared.exit_code == 0);
    BOOST_TEST(compared.out == "");
    fs::remove(tar);
}

// What tar --compare does not check: directory times, xattrs, inode sharing.
void require_same_details(const fs::path& src, const fs::path& dst, bool xattrs) {
    for (const char* path : {"", "deep", "deep/a/b/c/d/e", "ro", "bin", "run/fifo", "etc/hostname"}) {
        BOOST_TEST_CONTEXT(path) {
            struct stat a = lstat_of(src / path), b = lstat_of(dst / path);
            BOOST_TEST(a.st_mtim.tv_sec == b.st_mtim.tv_sec);
            BOOST_TEST(a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
            BOOST_TEST((a.st_mode & 07777) == (b.st_mode & 07777));
            BOOST_TEST(a.st_uid == b.st_uid);
        }
    }
    BOOST_TEST((lstat_of(dst / "tmp").st_mode & 07777) == 01777u);
    BOOST_TEST((lstat_of(dst / "usr/bin/suid").st_mode & 07777) == 04755u);
    BOOST_TEST((lstat_of(dst / "usr/bin/sgid").st_mode & 07777) == 02755u);
    BOOST_TEST((lstat_of(dst / "ro").st_mode & 07777) == 0555u);
    BOOST_TEST(S_ISFIFO(lstat_of(dst / "run/fifo").st_mode));
    BOOST_TEST(S_ISSOCK(lstat_of(dst / "run/sock").st_mode));
    BOOST_TEST(fs::read_symlink(dst / "escape") == fs::read_symlink(src / "escape"));
    BOOST_TEST(fs::read_symlink(dst / "etc/abs") == "/etc/passwd");

    const ino_t tool = lstat_of(dst / "usr/bin/tool").st_ino;
    BOOST_TEST(lstat_of(dst / "usr/bin/tool-link").st_ino == tool);
    BOOST_TEST(lstat_of(dst / "etc/tool-link").st_ino == tool);
    BOOST_TEST(lstat_of(dst / "usr/bin/tool").st_nlink == 3u);

    BOOST_TEST(read_text(dst / "big") == read_text(src / "big"));
    BOOST_TEST(read_text(dst / "sparse") == read_text(src / "sparse"));
    BOOST_TEST(lstat_of(dst / "sparse").st_blocks * 512 < (1 << 20), "holes stay holes");

    if (xattrs) {
        BOOST_TEST(xattr(dst / "etc/hostname", "user.lxcri.test") == "file-value");
        BOOST_TEST(xattr(dst / "deep", "user.lxcri.test") == "dir-value");
    }
    if (is_root()) {
        struct stat null = lstat_of(dst / "dev/null"), loop = lstat_of(dst / "dev/loop200");
        BOOST_TEST(S_ISCHR(null.st_mode));
        BOOST_TEST(null.st_rdev == makedev(1, 3));
        BOOST_TEST(S_ISBLK(loop.st_mode));
        BOOST_TEST(loop.st_rdev == makedev(7, 200));
        BOOST_TEST(lstat_of(dst / "etc/secret").st_uid == 1234u);
        BOOST_TEST(lstat_of(dst / "etc/secret").st_gid == 5678u);
        BOOST_TEST(lstat_of(dst / "etc/abs").st_uid == 42u);
        BOOST_TEST(lstat_of(dst / "deep").st_uid == 100u);
        // chown clears file capabilities: they must be set after it.
        BOOST_TEST(xattr(dst / "usr/bin/tool", "security.capability") == net_raw_capability());
    }
}

// Whether FICLONE works in `dir` (btrfs, xfs ...).
bool reflinks_work(const fs::path& dir) {
    write_text(dir / "probe-a", "probe");
    int in = ::open((dir / "probe-a").c_str(), O_RDONLY);
    int out = ::open((dir / "probe-b").c_str(), O_WRONLY | O_CREAT, 0600);
    bool ok = ::ioctl(out, FICLONE, in) == 0;
    ::close(in);
    ::close(out);
    fs::remove(dir / "probe-a");
    fs::remove(dir / "probe-b");
    return ok;
}

// Entries of `dir` whose names start with `prefix`.
std::vector<std::string> entries_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with(prefix)) found.push_back(entry.path().filename().string());
    return found;
}

struct Source {
    TempDir tmp;
    fs::path src = tmp / "src";
    bool xattrs = make_source(src);
    // TempDir cannot remove the read-only directories without root.
    ~Source() { bundle::remove_tree(tmp.path()); }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(copy_keeps_modes_owners_links_specials_xattrs_and_times, Source) {
    const fs::path dst = tmp / "dst";
    bundle::copy_tree(src, dst);
    require_same_tree(src, dst, tmp.path());
    require_same_details(src, dst, xattrs);
}

BOOST_FIXTURE_TEST_CASE(copy_never_follows_symlinks, Source) {
    const fs::path dst = tmp / "dst";
    bundle::copy_tree(src, dst);
    BOOST_TEST(fs::is_symlink(dst / "escape"));
    BOOST_TEST(fs::is_symlink(dst / "bin"));
    const bool escaped = fs::exists(dst / "escape/passwd") && !fs::equivalent(dst / "escape/passwd", "/etc/passwd");
    BOOST_TEST(!escaped);
    // Only what is in the source: nothing reached through a link was copied.
    BOOST_TEST(!fs::exists(dst / "usr/bin/passwd"));
    BOOST_TEST(fs::read_symlink(dst / "dangling") == "nowhere");
}

BOOST_FIXTURE_TEST_CASE(copy_from_a_symlink_to_the_source_dir, Source) {
    fs::create_directory_symlink(src, tmp / "src-link");
    bundle::copy_tree(tmp / "src-link", tmp / "dst");
    BOOST_TEST(fs::is_directory(tmp / "dst"));
    BOOST_TEST(!fs::is_symlink(tmp / "dst"));
    BOOST_TEST(read_text(tmp / "dst/etc/hostname") == "test\n");
}

BOOST_FIXTURE_TEST_CASE(copy_refuses_an_existing_target, Source) {
    fs::create_directory(tmp / "dst");
    BOOST_CHECK_THROW(bundle::copy_tree(src, tmp / "dst"), Error);
}

BOOST_FIXTURE_TEST_CASE(link_mode_shares_inodes_with_the_source, Source) {
    const fs::path dst = tmp / "dst";
    bundle::copy_tree(src, dst, {bundle::CopyMode::link, {}});
    for (const char* file : {"etc/hostname", "big", "usr/bin/tool", "etc/tool-link", "run/fifo", "bin"})
        BOOST_TEST(lstat_of(dst / file).st_ino == lstat_of(src / file).st_ino, file);
    BOOST_TEST(lstat_of(dst / "deep").st_ino != lstat_of(src / "deep").st_ino, "directories are made, not linked");
    BOOST_TEST((lstat_of(dst / "tmp").st_mode & 07777) == 01777u);
    BOOST_TEST(lstat_of(dst / "deep").st_mtim.tv_sec == 1000000004);
}

BOOST_FIXTURE_TEST_CASE(reflink_mode_clones_or_fails_clearly, Source) {
    const fs::path dst = tmp / "dst";
    if (reflinks_work(tmp.path())) {
        bundle::copy_tree(src, dst, {bundle::CopyMode::reflink, {}});
        require_same_tree(src, dst, tmp.path());
    } else {
        BOOST_CHECK_EXCEPTION(bundle::copy_tree(src, dst, {bundle::CopyMode::reflink, {}}), Error,
                              [](const Error& e) { return std::string(e.what()).find("--reflink needs") != std::string::npos; });
    }
}

BOOST_FIXTURE_TEST_CASE(progress_is_reported_and_can_cancel, Source) {
    std::uint64_t calls = 0;
    bundle::Progress last;
    bundle::copy_tree(src, tmp / "dst", {bundle::CopyMode::copy, [&](const bundle::Progress& p) {
                                             ++calls;
                                             last = p;
                                         }});
    BOOST_TEST(calls > 1u);
    std::uint64_t entries = 1, bytes = 0;  // 1: the top directory
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        ++entries;
        if (entry.is_regular_file() && !entry.is_symlink()) bytes += entry.file_size();
    }
    BOOST_TEST(last.entries == entries, "every entry counted once");
    BOOST_TEST(last.bytes == bytes);

    auto cancel = [](const bundle::Progress&) { throw Error(Errc::failed, "cancelled"); };
    BOOST_CHECK_THROW(bundle::copy_tree(src, tmp / "dst2", {bundle::CopyMode::copy, cancel}), Error);
    bundle::remove_tree(tmp / "dst2");
    BOOST_TEST(!fs::exists(tmp / "dst2"));
}

BOOST_AUTO_TEST_CASE(remove_tree_removes_read_only_trees_and_not_symlink_targets) {
    TempDir tmp;
    write_text(tmp / "keep/file", "keep");
    write_text(tmp / "tree/ro/file", "x");
    fs::create_directory_symlink(tmp / "keep", tmp / "tree/link");
    fs::permissions(tmp / "tree/ro", fs::perms(0500));
    bundle::remove_tree(tmp / "tree");
    BOOST_TEST(!fs::exists(tmp / "tree"));
    BOOST_TEST(read_text(tmp / "keep/file") == "keep");
    bundle::remove_tree(tmp / "tree");  // gone already: fine
}

BOOST_AUTO_TEST_CASE(skeleton_has_the_usual_directories_and_modes) {
    TempDir tmp;
    bundle::make_skeleton(tmp / "rootfs");
    for (const char* dir : {"bin", "dev", "etc", "lib", "proc", "sys", "usr/bin", "var/log"})
        BOOST_TEST(fs::is_directory(tmp / "rootfs" / dir), dir);
    BOOST_TEST((lstat_of(tmp / "rootfs").st_mode & 07777) == 0755u);
    BOOST_TEST((lstat_of(tmp / "rootfs/tmp").st_mode & 07777) == 01777u);
    BOOST_TEST((lstat_of(tmp / "rootfs/var/tmp").st_mode & 07777) == 01777u);
    BOOST_TEST((lstat_of(tmp / "rootfs/root").st_mode & 07777) == 0700u);
    BOOST_TEST((lstat_of(tmp / "rootfs/etc").st_mode & 07777) == 0755u);
}

BOOST_FIXTURE_TEST_CASE(create_bundle_from_a_directory, Source) {
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    options.rootfs = src;
    bundle::create_bundle(options);
    BOOST_TEST(fs::is_regular_file(tmp / "bundle/config.json"));
    require_same_tree(src, tmp / "bundle/rootfs", tmp.path());
    require_same_details(src, tmp / "bundle/rootfs", xattrs);
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle.tmp-").empty());
}

BOOST_AUTO_TEST_CASE(create_bundle_without_rootfs_makes_a_skeleton) {
    TempDir tmp;
    bundle::CreateOptions options;
    options.path = tmp / "bundle/";  // a trailing slash is the same bundle
    bundle::create_bundle(options);
    BOOST_TEST((lstat_of(tmp / "bundle/rootfs/tmp").st_mode & 07777) == 01777u);
    BOOST_TEST(fs::is_regular_file(tmp / "bundle/config.json"));
}

BOOST_FIXTURE_TEST_CASE(create_bundle_refuses_a_non_empty_path_unless_forced, Source) {
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    write_text(tmp / "bundle/precious", "x");
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return e.code() == Errc::already_exists; });
    BOOST_TEST(read_text(tmp / "bundle/precious") == "x");

    fs::create_directory(tmp / "empty");
    options.path = tmp / "empty";
    bundle::create_bundle(options);  // an empty directory is fine
    BOOST_TEST(fs::exists(tmp / "empty/config.json"));

    options.path = tmp / "bundle";
    options.rootfs = src;
    options.force = true;
    bundle::create_bundle(options);
    BOOST_TEST(!fs::exists(tmp / "bundle/precious"));
    BOOST_TEST(read_text(tmp / "bundle/rootfs/etc/hostname") == "test\n");
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle.").empty());
}

BOOST_FIXTURE_TEST_CASE(create_bundle_refuses_dangerous_paths, Source) {
    bundle::CreateOptions options;
    options.rootfs = src;
    options.path = src / "inside";
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return e.code() == Errc::invalid_input; });
    BOOST_TEST(!fs::exists(src / "inside"));

    options.path = tmp.path();  // --force would delete the source
    options.force = true;
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return e.code() == Errc::invalid_input; });
    BOOST_TEST(fs::exists(src / "etc/hostname"));

    options.path = tmp / "no/such/parent";
    BOOST_CHECK_THROW(bundle::create_bundle(options), Error);

    options.path = tmp / "b";
    options.rootfs = tmp / "missing";
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return e.code() == Errc::invalid_input; });
    options.rootfs.reset();
    options.mode = bundle::CopyMode::link;
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return e.code() == Errc::invalid_input; });
    BOOST_TEST(!fs::exists(tmp / "b"));
}

BOOST_FIXTURE_TEST_CASE(failure_half_way_leaves_nothing, Source) {
    // The rootfs is copied, then the template makes the bundle invalid.
    write_text(tmp / "template.json", R"({"ociVersion": "1.2.0", "process": {"args": [], "cwd": "/"}})");
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    options.rootfs = src;
    options.config.template_path = tmp / "template.json";
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error, [](const Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        return e.code() == Errc::invalid_input &&
               std::string(e.what()).find("process.args") != std::string::npos;
    });
    BOOST_TEST(!fs::exists(tmp / "bundle"));
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle").empty());

    // With --force the old bundle survives a failed replacement untouched.
    write_text(tmp / "bundle/config.json", "old");
    options.force = true;
    BOOST_CHECK_THROW(bundle::create_bundle(options), Error);
    BOOST_TEST(read_text(tmp / "bundle/config.json") == "old");
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle.").empty());
}
