#pragma once

// A Proxmox VE host made of the pct and pvesh test doubles (pct, pvesh here),
// shared by the pct tests: a pve dir with storage.cfg, the [pct] options
// that point the backend at it, busybox bundles, and the doubles' call log.

#include "support/test_support.hpp"
#include "util/json.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace lxcri::test::pct {

namespace fs = std::filesystem;

inline const fs::path fakes_dir = fs::path(LXCRI_SOURCE_DIR) / "tests/fakes";
inline const fs::path fixtures_dir = fs::path(LXCRI_FIXTURES_DIR) / "pct";
inline const fs::path libexec_dir = fs::path(LXCRI_BUILD_DIR) / "libexec/proxmox-lxcri";

struct Call {
    std::string prog;
    std::vector<std::string> argv;
    int exit = 0;
    std::string stderr_text;
    std::vector<std::string> warnings;
};

class FakePve {
public:
    FakePve() {
        ::chmod(tmp.path().c_str(), 0755);  // an unprivileged CT's root must reach its volume
        fs::create_directories(dir / "lxc");
        fs::create_directories(vz / "template" / "cache");
        fs::create_directories(root);
        write_text(dir / "storage.cfg", "dir: local\n\tpath " + vz.string() +
                                            "\n\tcontent iso,vztmpl,backup\n\n"
                                            "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n");
        ::setenv("FAKE_PVE_DIR", dir.c_str(), 1);
        ::unsetenv("FAKE_PCT_FAIL");
        ::unsetenv("FAKE_PCT_TAKEN_ON_OTHER_NODE");
    }

    ~FakePve() {
        // Whatever a failed test left running.
        std::error_code ec;
        for (fs::directory_iterator it(dir / "lxc", ec), end; !ec && it != end; it.increment(ec)) {
            std::string vmid = it->path().stem().string();
            run({(fakes_dir / "pct").string(), "destroy", vmid, "--force"});
        }
    }

    // The [pct] section the backend gets.
    std::map<std::string, std::string> options() const {
        return {{"path", (fakes_dir / "pct").string()},
                {"pvesh-path", (fakes_dir / "pvesh").string()},
                {"pve-dir", dir.string()},
                {"template-storage", "local"},
                {"timeout", "30"}};
    }

    fs::path template_dir() const { return vz / "template" / "cache"; }

    std::vector<Call> calls() const {
        std::vector<Call> result;
        std::ifstream in(dir / "calls.jsonl");
        for (std::string line; std::getline(in, line);) {
            auto doc = boost::json::parse(line).as_object();
            Call call;
            call.prog = doc.at("prog").as_string().c_str();
            for (const auto& a : doc.at("argv").as_array()) call.argv.push_back(a.as_string().c_str());
            call.exit = static_cast<int>(doc.at("exit").as_int64());
            call.stderr_text = doc.at("stderr").as_string().c_str();
            for (const auto& w : doc.at("warnings").as_array()) call.warnings.push_back(w.as_string().c_str());
            result.push_back(call);
        }
        return result;
    }

    // Every call the backend made that real pct would have refused or
    // warned about; must stay empty.
    std::string rejected_calls() const {
        std::string out;
        for (const auto& call : calls()) {
            bool injected = call.stderr_text.find("injected failure") != std::string::npos;
            // What the tests provoke on purpose: a lost race, a CT that
            // stops while it starts, a stop racing the CT's own end.
            bool expected = call.stderr_text.find("already exists") != std::string::npos ||
                            call.stderr_text.find("startup for container") != std::string::npos ||
                            call.stderr_text.find("not running") != std::string::npos ||
                            call.stderr_text.find("does not exist") != std::string::npos;
            // `pct exec` exits with the command's status; pct's own errors are 255.
            bool command_status = !call.argv.empty() && call.argv[0] == "exec" && call.exit != 255;
            if ((call.exit != 0 && !injected && !expected && !command_status) || !call.warnings.empty()) {
                out += call.prog;
                for (const auto& a : call.argv) out += " '" + a + "'";
                out += " -> " + call.stderr_text + "\n";
            }
        }
        return out;
    }

    // The `pct create` calls, as argv.
    std::vector<std::vector<std::string>> create_calls() const {
        std::vector<std::vector<std::string>> out;
        for (const auto& call : calls())
            if (call.prog == "pct" && !call.argv.empty() && call.argv[0] == "create") out.push_back(call.argv);
        return out;
    }

    RunResult pct(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{(fakes_dir / "pct").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }

    // Files the doubles and the backend keep; empty once every CT is gone.
    std::vector<std::string> leftovers() const {
        std::vector<std::string> out;
        for (const auto& sub : {dir / "lxc", template_dir(), dir / ".fake" / "volumes" / "local-lvm"}) {
            std::error_code ec;
            for (fs::directory_iterator it(sub, ec), end; !ec && it != end; it.increment(ec))
                out.push_back(it->path().string());
        }
        if (fs::exists(dir / ".vmlist")) {
            auto vmlist = lxcri::read_json_file(dir / ".vmlist");
            for (const auto& [vmid, entry] : vmlist.as_object().at("ids").as_object())
                out.push_back(".vmlist: " + std::string(vmid));
        }
        return out;
    }

    TempDir tmp;
    fs::path dir = tmp / "pve";
    fs::path vz = tmp / "vz";
    fs::path root = tmp / "run";
};

// A busybox rootfs at `rootfs`.
inline void make_busybox_rootfs(const fs::path& rootfs) {
    fs::create_directories(rootfs / "bin");
    fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
    auto applets = run({"/bin/busybox", "--list"}).out;
    std::istringstream in(applets);
    for (std::string applet; std::getline(in, applet);)
        if (!applet.empty() && applet != "busybox") fs::create_symlink("busybox", rootfs / "bin" / applet);
    for (const char* d : {"proc", "sys", "dev", "tmp", "etc", "run", "data"}) fs::create_directories(rootfs / d);
    ::chmod((rootfs / "tmp").c_str(), 01777);
    write_text(rootfs / "etc" / "passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write_text(rootfs / "etc" / "group", "root:x:0:\n");
}

// A bundle from tests/fixtures/pct/<name>: its config.json, a busybox
// rootfs and what bundle.txt lists. `edit` may change config.json.
inline fs::path make_bundle(const fs::path& at, const std::string& name,
                            const std::function<void(boost::json::object&)>& edit = {}) {
    fs::create_directories(at);
    ::chmod(at.c_str(), 0755);
    make_busybox_rootfs(at / "rootfs");
    std::ifstream list(fixtures_dir / name / "bundle.txt");
    for (std::string line; std::getline(list, line);) {
        std::istringstream words(line);
        std::string kind, path;
        words >> kind >> path;
        if (kind == "dir") fs::create_directories(at / path);
        if (kind == "file") write_text(at / path, "");
    }
    auto doc = lxcri::read_json_file(fixtures_dir / name / "config.json");
    if (edit) edit(doc.as_object());
    write_text(at / "config.json", boost::json::serialize(doc));
    return at;
}

// `text` with every occurrence of each key replaced by its value.
inline std::string substitute(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [from, to] : values)
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
            text.replace(at, from.size(), to);
    return text;
}

// Runs the proxmox-lxcri `argv` with its stdout and stderr in files (unless
// `options` names others), read back and removed: the pid-file process a
// create leaves behind must not hold pipes of ours open.
inline RunResult run_with_output_files(const std::vector<std::string>& argv, RunOptions options,
                                       const fs::path& stdout_file, const fs::path& stderr_file) {
    if (!options.stdout_file) options.stdout_file = stdout_file;
    if (!options.stderr_file) options.stderr_file = stderr_file;
    auto r = run(argv, options);
    auto take = [](const fs::path& file) {
        if (!fs::exists(file)) return std::string();
        std::string text = read_text(file);
        fs::remove(file);
        return text;
    };
    r.out = take(*options.stdout_file);
    r.err = take(*options.stderr_file);
    return r;
}

inline std::string lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += item + "\n";
    return out;
}

}  // namespace lxcri::test::pct
