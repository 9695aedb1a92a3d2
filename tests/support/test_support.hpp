#pragma once

// Helpers shared by the tests: temporary directories and running programs.

#include <boost/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lxcri::test {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }

private:
    std::filesystem::path path_;
};

struct RunResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    std::string out;
    std::string err;
};

struct RunOptions {
    std::map<std::string, std::string> env;  // added to (or replacing in) the current environment
    std::vector<std::string> unset_env;
    std::optional<std::string> input;         // standard input; /dev/null when unset
    std::optional<std::filesystem::path> cwd;
    // Standard output goes to this file (appended) instead of a pipe: for
    // commands that leave a process behind holding it (create's monitor).
    std::optional<std::filesystem::path> stdout_file;
    std::optional<std::filesystem::path> stderr_file;  // likewise for standard error
};

// Runs argv[0] (a path, or a name looked up in PATH) with argv, no shell.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Starts argv like run() and returns its pid without waiting: the caller
// waits for it (wait_child). Its standard input is /dev/null, its output goes
// to options' files, or to /dev/null without them; `input` is not supported.
int spawn(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs argv on a new pseudo-terminal (its controlling terminal, as stdin,
// stdout and stderr), as a user at a shell would: no end-of-file is ever sent
// on its input. Returns what it wrote to the terminal in `out` (with the
// terminal's \r\n line ends). After timeout_ms it is killed (SIGKILL) and
// exit_code is -1.
RunResult run_in_terminal(const std::vector<std::string>& argv, int timeout_ms);

// Writes a file, making parent directories.
void write_text(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

// Builds a test image with tests/support/make_image.py from `spec_json` (its
// format is described there): kind "layout" makes the OCI layout directory
// `out`, "docker-archive" the file `out`. Throws std::runtime_error.
void make_image(const std::string& spec_json, const std::string& kind, const std::filesystem::path& out);

// A busybox rootfs at `rootfs`: /bin/busybox (busybox-static) with a link
// per applet, and the directories in `dirs` (mode 0755).
void make_busybox_rootfs(const std::filesystem::path& rootfs, const std::vector<std::string>& dirs);

// `runc spec`'s default config.json in `dir` (made), with root.path
// `rootfs`, `/bin/sh -c script` as the process without a terminal, then
// whatever `edit` changes: the bundle runc (the control) and proxmox-lxcri
// both run. Throws std::runtime_error when runc fails.
void write_runc_bundle(const std::filesystem::path& dir, const std::filesystem::path& rootfs, const std::string& script,
                       const std::function<void(boost::json::object&)>& edit = {});

// proxmox-lxcri with the lxc backend in a world of its own (--root,
// --state-dir, an lxcpath and the config file naming it, under `tmp`), a
// busybox rootfs, and runc (the control) with its own state directory. The
// constructor throws std::runtime_error without root or runc; the
// destructor deletes (--force) every container left in `root`.
struct LxcWorld {
    TempDir tmp;
    std::filesystem::path root = tmp / "run";
    std::filesystem::path state = tmp / "state";
    std::filesystem::path lxcpath = tmp / "lxc";
    std::filesystem::path config = tmp / "config";
    std::filesystem::path runc_root = tmp / "runc";
    std::filesystem::path rootfs = tmp / "busybox";

    LxcWorld();
    ~LxcWorld();
    LxcWorld(const LxcWorld&) = delete;
    LxcWorld& operator=(const LxcWorld&) = delete;

    // delete --force of every container in `root`.
    void delete_all() const;
    // proxmox-lxcri with `args` in this world.
    RunResult cli(const std::vector<std::string>& args, RunOptions options = {}) const;
    // `runc run` of bundle `b` as container `id`.
    RunResult run_runc(const std::string& id, const std::filesystem::path& b) const;
};

// Makes this process a child subreaper, as conmon and the containerd shim
// are, so that orphaned descendants (a container's monitor) become our children.
void become_subreaper();

// waitpid for a child, as an exit code (128 + signal when killed); -1 on timeout.
int wait_child(int pid, int timeout_ms);

// True when the tests run as root.
bool is_root();

// This machine's short host name (Proxmox's node name), as the pct
// backend's template cache writes it after a container id.
std::string node_name();

// Counts the opens of files in a directory from its construction on
// (inotify IN_OPEN), e.g. how often a create read a bundle's config.json.
class OpenCounter {
public:
    explicit OpenCounter(const std::filesystem::path& dir);
    ~OpenCounter();
    OpenCounter(const OpenCounter&) = delete;
    OpenCounter& operator=(const OpenCounter&) = delete;
    // The opens of `name` since the last call (or construction).
    int opens(const std::string& name);

private:
    int fd_;
};

}  // namespace lxcri::test
