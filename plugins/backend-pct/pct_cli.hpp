#pragma once

// pct and pvesh as the backend calls them: every call an argv through
// run_process, with the [pct] timeout, its exit status checked and its
// stderr in the error message.

#include "pct_plan.hpp"

#include <lxcri/process.hpp>
#include <lxcri/types.hpp>

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace lxcri::pct {

struct CtStatus {
    bool exists = false;
    bool running = false;
    pid_t pid = 0;  // the CT's init on the host, when running
};

class Cli {
public:
    explicit Cli(const PctSettings& settings) : settings_(settings) {}

    // `pct args...`; throws Error("pct <command> <vmid>: <stderr>") unless it exits 0.
    std::string pct(const std::vector<std::string>& args) const;
    // The same without the check.
    ProcessResult try_pct(const std::vector<std::string>& args) const;
    // `pct args...` with this process's stdio and no timeout, not waited
    // for: a long-running call such as `pct exec`.
    pid_t spawn_pct(const std::vector<std::string>& args) const;
    // Throws that error for a `result` of `pct args...` that did not exit 0:
    // Errc::already_exists when the VMID is taken ("CT 101 already exists on node 'x'").
    void check(const std::vector<std::string>& args, const ProcessResult& result) const;

    std::set<Vmid> list() const;          // pct list
    CtStatus status(Vmid vmid) const;     // pct status <vmid> --verbose
    // pvesh get /cluster/nextid [--vmid N]: the lowest free VMID (or N), or
    // nullopt when N is taken.
    std::optional<Vmid> next_id(std::optional<Vmid> vmid = std::nullopt) const;

private:
    // Error unless `program` (pct or pvesh) is executable: what a host without Proxmox VE gets.
    void require(const std::filesystem::path& program) const;
    ProcessResult run(const std::filesystem::path& program, const std::vector<std::string>& args) const;
    const PctSettings& settings_;
};

// What a failed call printed, on one line: "400 Parameter verification failed. memory: ...".
std::string one_line(const std::string& text);

// `pct list` output -> VMIDs (by column, never by offset).
std::set<Vmid> parse_list(const std::string& out);
// `pct status --verbose` output -> status and pid.
CtStatus parse_status(const std::string& out);
// <pve-dir>/.vmlist -> every VMID of the cluster; empty when the file is missing.
std::set<Vmid> read_vmlist(const std::filesystem::path& file);

}  // namespace lxcri::pct
