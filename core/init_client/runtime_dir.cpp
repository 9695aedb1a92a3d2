// What a backend prepares on the host before the helper runs: rt/ and its
// owner (init_protocol.hpp, step 1).

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/init_protocol.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {

Owner container_root(const ContainerSpec& spec) {
    auto root_of = [](const std::vector<IdMapping>& mappings) -> std::uint32_t {
        for (const auto& m : mappings)
            if (m.container_id == 0) return m.host_id;
        return 0;
    };
    return {root_of(spec.linux_spec.uid_mappings), root_of(spec.linux_spec.gid_mappings)};
}

void change_owner(const fs::path& path, Owner owner) {
    if (::lchown(path.c_str(), owner.uid, owner.gid) != 0) throw_errno("chown " + path.string(), errno);
}

fs::path prepare_runtime_dir(const ContainerRef& container, std::string_view config_json, Owner owner, Undo& undo) {
    fs::path rt = container.dir / proto::host_subdir;
    if (::mkdir(rt.c_str(), 0700) != 0) throw_errno("create " + rt.string(), errno);
    undo.add([rt] {
        std::error_code ec;
        fs::remove_all(rt, ec);
    });
    change_owner(rt, owner);
    // The helper reads the spec inside the container: a private copy.
    write_file_atomic(rt / proto::config_file, config_json, 0600, Durability::process);
    change_owner(rt / proto::config_file, owner);
    if (::mkfifo((rt / proto::exec_fifo).c_str(), 0600) != 0) throw_errno("mkfifo " + (rt / proto::exec_fifo).string(), errno);
    change_owner(rt / proto::exec_fifo, owner);
    // The mount point of the read-only helper binary.
    write_file_atomic(rt / proto::helper_file, "", 0600, Durability::process);
    return rt;
}

}  // namespace lxcri
