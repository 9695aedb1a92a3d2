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

// <pve-dir>/lxc: the VMIDs of this node's CTs, from their <vmid>.conf
// files (what `pct list` lists); empty when the directory is missing.
std::set<Vmid> read_conf_dir(const std::filesystem::path& dir);
// <pve-dir>/.vmlist -> every VMID of the cluster; empty when the file is missing.
std::set<Vmid> read_vmlist(const std::filesystem::path& file);

}  // namespace lxcri::pct
