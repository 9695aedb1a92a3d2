#define BOOST_TEST_MODULE bundle_archive
#include <boost/test/unit_test.hpp>

#include "bundle/archive.hpp"
#include "bundle/bundle_generator.hpp"
#include "bundle/rootfs.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <fcntl.h>
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

void set_mtime(const fs::path& path, time_t seconds) {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

void tar(std::vector<std::string> args) {
    args.insert(args.begin(), "tar");
    auto result = run(args);
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "tar failed: " << result.err);
}

std::vector<std::string> entries_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with(prefix)) found.push_back(entry.path().filename().string());
    return found;
}

bool message_has(const Error& e, const std::string& text) {
    BOOST_TEST_MESSAGE(e.what());
    return std::string(e.what()).find(text) != std::string::npos;
}

struct Workspace {
    TempDir tmp;
    fs::path src = tmp / "src";
    fs::path outside = tmp / "outside";  // what an attack aims at
    bool xattrs = false;

    Workspace() {
        fs::create_directories(outside);
        fs::create_directories(src / "usr/bin");
        fs::create_directories(src / "dev");
        write_text(src / "etc/hostname", "archived\n");
        write_text(src / "usr/bin/tool", "tool");
        write_text(src / "usr/bin/suid", "suid");
        fs::create_hard_link(src / "usr/bin/tool", src / "usr/bin/tool-link");
        fs::create_directory_symlink("usr/bin", src / "bin");
        fs::create_symlink("/etc/passwd", src / "etc/abs");
        fs::create_directories(src / "tmp");
        fs::permissions(src / "tmp", fs::perms(01777));
        fs::permissions(src / "usr/bin/suid", fs::perms(04755));
        BOOST_REQUIRE(::mkfifo((src / "dev/fifo").c_str(), 0600) == 0);
        write_text(src / "ro/file", "ro");
        fs::permissions(src / "ro", fs::perms(0555));
        if (is_root()) {
            BOOST_REQUIRE(::mknod((src / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
            BOOST_REQUIRE(::chown((src / "etc/hostname").c_str(), 1234, 5678) == 0);
        }
        xattrs = ::setxattr((src / "etc/hostname").c_str(), "user.lxcri.test", "archived", 8, 0) == 0;
        set_mtime(src / "etc/hostname", 1000000000);
        set_mtime(src / "usr/bin", 1000000001);
        set_mtime(src / "ro", 1000000002);
        set_mtime(src, 1000000003);
    }

    // TempDir cannot remove the read-only directories without root.
    ~Workspace() { bundle::remove_tree(tmp.path()); }

    // A tar of src made by GNU tar, the way a user would.
    fs::path archive(const std::string& name, const std::string& compression) {
        const fs::path file = tmp / name;
        std::vector<std::string> args = {"--xattrs", "--xattrs-include=user.*", "--numeric-owner", "-C",
                                         src.string(), "-cf", file.string()};
        if (!compression.empty()) args.insert(args.begin(), compression);
        args.push_back(".");
        tar(args);
        return file;
    }

    void require_same_as_source(const fs::path& rootfs, const fs::path& archive) {
        // GNU tar judges modes, owners, sizes, contents, file times, symlinks,
        // devices and hard links; the rest is checked here.
        auto compared = run({"tar", "--compare", "--numeric-owner", "-f", archive.string(), "-C", rootfs.string()});
        BOOST_TEST(compared.exit_code == 0);
        BOOST_TEST(compared.out == "");
        BOOST_TEST((lstat_of(rootfs / "tmp").st_mode & 07777) == 01777u);
        BOOST_TEST((lstat_of(rootfs / "usr/bin/suid").st_mode & 07777) == 04755u);
        BOOST_TEST((lstat_of(rootfs / "ro").st_mode & 07777) == 0555u);
        BOOST_TEST(lstat_of(rootfs / "usr/bin/tool").st_ino == lstat_of(rootfs / "usr/bin/tool-link").st_ino);
        BOOST_TEST(S_ISFIFO(lstat_of(rootfs / "dev/fifo").st_mode));
        BOOST_TEST(fs::read_symlink(rootfs / "bin") == "usr/bin");
        BOOST_TEST(lstat_of(rootfs / "usr/bin").st_mtim.tv_sec == 1000000001);
        BOOST_TEST(lstat_of(rootfs / "ro").st_mtim.tv_sec == 1000000002);
        BOOST_TEST(lstat_of(rootfs).st_mtim.tv_sec == 1000000003, "the rootfs gets the archive's ./ entry");
        if (xattrs) {
            char value[64] = {};
            BOOST_TEST(::getxattr((rootfs / "etc/hostname").c_str(), "user.lxcri.test", value, sizeof value) == 8);
            BOOST_TEST(std::string(value) == "archived");
        }
        if (is_root()) {
            BOOST_TEST(lstat_of(rootfs / "etc/hostname").st_uid == 1234u);
            BOOST_TEST(lstat_of(rootfs / "etc/hostname").st_gid == 5678u);
            BOOST_TEST(S_ISCHR(lstat_of(rootfs / "dev/null").st_mode));
            BOOST_TEST(lstat_of(rootfs / "dev/null").st_rdev == makedev(1, 3));
        }
    }

    // bundle create must fail naming `entry`, with nothing written outside
    // the bundle and no bundle (or staging directory) left.
    void require_refused(const fs::path& archive, const std::string& entry) {
        bundle::CreateOptions options;
        options.path = tmp / "bundle";
        options.rootfs = archive;
        BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error, [&](const Error& e) {
            return e.code() == Errc::invalid_input && message_has(e, "archive entry '" + entry + "'");
        });
        BOOST_TEST(fs::is_empty(outside));
        BOOST_TEST(entries_starting_with(tmp.path(), "bundle").empty());
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(extracts_each_archive_type, Workspace) {
    const std::pair<const char*, const char*> types[] = {
        {"rootfs.tar", ""}, {"rootfs.tar.gz", "-z"}, {"rootfs.tar.zst", "--zstd"}, {"rootfs.tar.xz", "-J"}};
    for (const auto& [name, compression] : types) {
        BOOST_TEST_CONTEXT(name) {
            const fs::path file = archive(name, compression);
            bundle::CreateOptions options;
            options.path = tmp / "bundle";
            options.rootfs = file;
            options.force = true;
            bundle::create_bundle(options);
            require_same_as_source(tmp / "bundle/rootfs", file);
            BOOST_TEST(fs::is_regular_file(tmp / "bundle/config.json"));
        }
    }
}

BOOST_FIXTURE_TEST_CASE(recognises_the_compression_by_content, Workspace) {
    const fs::path file = archive("rootfs.tar.zst", "--zstd");
    fs::rename(file, tmp / "rootfs.img");  // a name that says nothing
    bundle::Progress last;
    bundle::extract_archive(tmp / "rootfs.img", tmp / "rootfs", [&](const bundle::Progress& p) { last = p; });
    require_same_as_source(tmp / "rootfs", tmp / "rootfs.img");
    BOOST_TEST(last.entries > 10u);
    BOOST_TEST(last.bytes_total == fs::file_size(tmp / "rootfs.img"));
}

BOOST_FIXTURE_TEST_CASE(refuses_a_file_that_is_not_a_tar_archive, Workspace) {
    write_text(tmp / "notes.tar.gz", "just text, not an archive\n");
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    options.rootfs = tmp / "notes.tar.gz";
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error, [](const Error& e) {
        return e.code() == Errc::invalid_input && message_has(e, "not a directory or a tar archive");
    });
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle").empty());

    options.rootfs = archive("rootfs.tar", "");
    options.mode = bundle::CopyMode::link;
    BOOST_CHECK_EXCEPTION(bundle::create_bundle(options), Error,
                          [](const Error& e) { return message_has(e, "not an archive"); });
}

BOOST_FIXTURE_TEST_CASE(refuses_dotdot_entries, Workspace) {
    write_text(tmp / "payload/evil", "evil");
    const fs::path file = tmp / "dotdot.tar";
    tar({"-P", "-cf", file.string(), "--transform", "s,^,../../outside/,", "-C", (tmp / "payload").string(), "evil"});
    require_refused(file, "../../outside/evil");
}

BOOST_FIXTURE_TEST_CASE(refuses_absolute_entries, Workspace) {
    write_text(tmp / "payload/evil", "evil");
    const fs::path file = tmp / "absolute.tar";
    const std::string prefix = "s,^," + outside.string() + "/,";
    tar({"-P", "-cf", file.string(), "--transform", prefix, "-C", (tmp / "payload").string(), "evil"});
    require_refused(file, outside.string() + "/evil");
}

BOOST_FIXTURE_TEST_CASE(refuses_a_path_through_a_symlink, Workspace) {
    // "link -> outside", then "link/evil": the classic symlink-escape pair.
    fs::create_directories(tmp / "part1");
    fs::create_directory_symlink(outside, tmp / "part1/link");
    write_text(tmp / "part2/link/evil", "evil");
    const fs::path file = tmp / "pair.tar";
    tar({"-cf", file.string(), "-C", (tmp / "part1").string(), "link", "-C", (tmp / "part2").string(), "link/evil"});
    require_refused(file, "link/evil");

    // The same with a relative link that climbs out.
    fs::remove(tmp / "part1/link");
    fs::create_directory_symlink("../../../../../../../../../..", tmp / "part1/link");
    tar({"-cf", file.string(), "-C", (tmp / "part1").string(), "link", "-C", (tmp / "part2").string(), "link/evil"});
    require_refused(file, "link/evil");
}

BOOST_FIXTURE_TEST_CASE(refuses_hard_links_to_outside, Workspace) {
    write_text(tmp / "payload/f", "f");
    fs::create_hard_link(tmp / "payload/f", tmp / "payload/g");
    const fs::path file = tmp / "hardlink.tar";
    // g becomes a hard link to ../../etc/passwd (f itself keeps its name).
    tar({"-P", "-cf", file.string(), "--transform", "s,^f$,../../etc/passwd,Rh", "-C", (tmp / "payload").string(),
         "f", "g"});
    require_refused(file, "g");

    // A hard link through a planted symlink: "link -> /etc", "g => link/passwd".
    fs::create_directories(tmp / "part1");
    fs::create_directory_symlink("/etc", tmp / "part1/link");
    tar({"-cf", file.string(), "--transform", "s,^f$,link/passwd,Rh", "-C", (tmp / "part1").string(), "link", "-C",
         (tmp / "payload").string(), "f", "g"});
    require_refused(file, "g");
}

BOOST_FIXTURE_TEST_CASE(failure_half_way_through_an_archive_leaves_nothing, Workspace) {
    for (int i = 0; i < 50; ++i) write_text(tmp / "payload/good" / std::to_string(i), "good");
    write_text(tmp / "bad/evil", "evil");
    const fs::path file = tmp / "late.tar.gz";
    tar({"-P", "-czf", file.string(), "--transform", "s,^evil,../outside/evil,", "-C", (tmp / "payload").string(),
         "good", "-C", (tmp / "bad").string(), "evil"});
    require_refused(file, "../outside/evil");

    // And with --force, the old bundle stays as it was.
    write_text(tmp / "bundle/config.json", "old");
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    options.rootfs = file;
    options.force = true;
    BOOST_CHECK_THROW(bundle::create_bundle(options), Error);
    BOOST_TEST(read_text(tmp / "bundle/config.json") == "old");
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle.").empty());
    BOOST_TEST(fs::is_empty(outside));
}

BOOST_FIXTURE_TEST_CASE(keeps_the_working_directory, Workspace) {
    const fs::path before = fs::current_path();
    bundle::extract_archive(archive("rootfs.tar", ""), tmp / "rootfs");
    BOOST_TEST(fs::current_path() == before);
    write_text(tmp / "bad/evil", "evil");
    tar({"-P", "-cf", (tmp / "bad.tar").string(), "--transform", "s,^,../,", "-C", (tmp / "bad").string(), "evil"});
    BOOST_CHECK_THROW(bundle::extract_archive(tmp / "bad.tar", tmp / "rootfs2"), Error);
    BOOST_TEST(fs::current_path() == before);
}

// A refused archive must not touch anything outside its target, not even
// through metadata that an extractor applies late: here "etcx" (mode 0777,
// mtime 0) comes before the refused "../evil", and a directory of that name
// exists in the caller's working directory.
BOOST_FIXTURE_TEST_CASE(a_refused_archive_leaves_the_working_directory_alone, Workspace) {
    fs::create_directories(tmp / "payload/etcx");
    fs::permissions(tmp / "payload/etcx", fs::perms(0777));
    set_mtime(tmp / "payload/etcx", 0);
    write_text(tmp / "payload/evil", "evil");
    const fs::path file = tmp / "late-metadata.tar";
    tar({"-P", "-cf", file.string(), "--transform", "s,^evil,../evil,", "-C", (tmp / "payload").string(), "etcx",
         "evil"});

    const fs::path cwd = tmp / "cwd";
    fs::create_directories(cwd / "etcx");
    fs::permissions(cwd / "etcx", fs::perms(0750));
    set_mtime(cwd / "etcx", 1500000000);
    const fs::path before = fs::current_path();
    fs::current_path(cwd);
    BOOST_CHECK_THROW(bundle::extract_archive(file, tmp / "rootfs"), Error);
    bundle::CreateOptions options;
    options.path = tmp / "bundle";
    options.rootfs = file;
    BOOST_CHECK_THROW(bundle::create_bundle(options), Error);
    fs::current_path(before);

    BOOST_TEST((lstat_of(cwd / "etcx").st_mode & 07777) == 0750u);
    BOOST_TEST(lstat_of(cwd / "etcx").st_mtim.tv_sec == 1500000000);
    BOOST_TEST(!fs::exists(cwd / "evil"));
    BOOST_TEST(!fs::exists(tmp / "evil"));
}
