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

std::set<Vmid> parse_list(const std::string& out) {
    std::set<Vmid> vmids;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string first;
        fields >> first;
        if (first.empty() || first.size() > 9 || first.find_first_not_of("0123456789") != std::string::npos) continue;
        unsigned long vmid = std::stoul(first);
        if (vmid >= vmid_hard_min && vmid <= vmid_hard_max) vmids.insert(static_cast<Vmid>(vmid));
    }
    return vmids;
}

CtStatus parse_status(const std::string& out) {
    CtStatus status;
    status.exists = true;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (key == "status") status.running = value == "running";
        if (key == "pid" && !value.empty() && value.size() < 10 &&
            value.find_first_not_of("0123456789") == std::string::npos)
            status.pid = static_cast<pid_t>(std::stol(value));
    }
    if (!status.running) status.pid = 0;
    return status;
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
    for (const auto& [key, value] : *ids) {
        std::string id(key);
        if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos) continue;
        unsigned long vmid = std::stoul(id);
        if (vmid >= vmid_hard_min && vmid <= vmid_hard_max) vmids.insert(static_cast<Vmid>(vmid));
    }
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

std::set<Vmid> Cli::list() const { return parse_list(pct({"list"})); }

CtStatus Cli::status(Vmid vmid) const {
    std::vector<std::string> args{"status", std::to_string(vmid), "--verbose"};
    auto result = try_pct(args);
    if (result.exit_code != 0 && !result.timed_out && result.err.find("does not exist") != std::string::npos)
        return {};
    check(args, result);
    return parse_status(result.out);
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
