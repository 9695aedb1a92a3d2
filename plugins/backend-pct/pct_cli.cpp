#include "pct_cli.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace fs = std::filesystem;

namespace lxcri::pct {

std::string one_line(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
        if (!line.empty()) out += (out.empty() ? "" : " ") + line;
    }
    return out.empty() ? "no error message" : out;
}

namespace {

// The VMID a name ("123") stands for, or nullopt outside Proxmox's range.
std::optional<Vmid> vmid_of(const std::string& text) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    unsigned long vmid = std::stoul(text);
    if (vmid < vmid_hard_min || vmid > vmid_hard_max) return std::nullopt;
    return static_cast<Vmid>(vmid);
}

}  // namespace

std::set<Vmid> read_conf_dir(const fs::path& dir) {
    std::set<Vmid> vmids;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& name = it->path().filename();
        if (name.extension() != ".conf") continue;
        if (auto vmid = vmid_of(name.stem().string())) vmids.insert(*vmid);
    }
    if (ec && ec != std::errc::no_such_file_or_directory) throw Error(Errc::failed, dir.string() + ": " + ec.message());
    return vmids;
}

std::set<Vmid> read_vmlist(const fs::path& file) {
    std::set<Vmid> vmids;
    std::string text;
    try {
        text = read_file(file);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return vmids;
        throw;
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(text, ec);
    const boost::json::object* ids = nullptr;
    if (!ec && doc.is_object())
        if (auto* v = doc.as_object().if_contains("ids"); v && v->is_object()) ids = &v->as_object();
    if (!ids) throw Error(Errc::failed, file.string() + ": not a Proxmox VM list");
    for (const auto& [key, value] : *ids)
        if (auto vmid = vmid_of(std::string(key))) vmids.insert(*vmid);
    return vmids;
}

void Cli::require(const fs::path& program) const {
    if (::access(program.c_str(), X_OK) == 0) return;
    int error = errno;
    bool is_pct = program == settings_.path;
    throw Error(error == ENOENT ? Errc::not_found : error == EACCES ? Errc::permission : Errc::failed,
                program.string() + ": " + std::strerror(error) + ": the pct backend needs a Proxmox VE host (" +
                    (is_pct ? "[pct] path names the pct program" : "[pct] pvesh-path names the pvesh program") +
                    "; backend = lxc runs containers without Proxmox)");
}

ProcessResult Cli::run(const fs::path& program, const std::vector<std::string>& args) const {
    require(program);
    std::vector<std::string> argv{program.filename().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.timeout = settings_.timeout;
    return run_process(program.string(), argv, options);
}

ProcessResult Cli::try_pct(const std::vector<std::string>& args) const { return run(settings_.path, args); }

pid_t Cli::spawn_pct(const std::vector<std::string>& args) const {
    require(settings_.path);
    std::vector<std::string> argv{settings_.path.filename().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn_process(settings_.path.string(), argv);
}

std::string Cli::pct(const std::vector<std::string>& args) const {
    auto result = try_pct(args);
    check(args, result);
    return result.out;
}

void Cli::check(const std::vector<std::string>& args, const ProcessResult& result) const {
    std::string what = "pct";
    for (std::size_t i = 0; i < args.size() && i < 2; ++i) what += " " + args[i];
    if (result.timed_out)
        throw Error(Errc::failed, what + ": timed out after " + std::to_string(settings_.timeout.count()) +
                                      " s (pct.timeout)");
    if (result.exit_code != 0) {
        // The VMID was free when it was picked: someone took it since.
        bool taken = result.err.find(" already exists on node ") != std::string::npos;
        throw Error(taken ? Errc::already_exists : Errc::failed, what + ": " + one_line(result.err));
    }
}

std::optional<Vmid> Cli::next_id(std::optional<Vmid> vmid) const {
    std::vector<std::string> args{"get", "/cluster/nextid", "--output-format", "json"};
    if (vmid) {
        args.push_back("--vmid");
        args.push_back(std::to_string(*vmid));
    }
    auto result = run(settings_.pvesh_path, args);
    std::string what = "pvesh get /cluster/nextid";
    if (result.timed_out) throw Error(Errc::failed, what + ": timed out (pct.timeout)");
    if (result.exit_code != 0) {
        if (vmid && result.err.find("already exists") != std::string::npos) return std::nullopt;
        throw Error(Errc::failed, what + ": " + one_line(result.err));
    }
    // An integer, or a string holding one, by Proxmox version.
    std::string text = result.out;
    text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == '"' || std::isspace(static_cast<unsigned char>(c)); }),
               text.end());
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
        throw Error(Errc::failed, what + ": unexpected answer '" + one_line(result.out) + "'");
    return static_cast<Vmid>(std::stoul(text));
}

}  // namespace lxcri::pct
