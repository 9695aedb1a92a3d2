// proxmox-lxcri-init: the container's first process. It waits on the exec
// fifo until `start`, then becomes process.args (include/lxcri/init_protocol.hpp).
// Statically linked: it runs in any rootfs. With `--exec FILE` it sets up
// and runs an `exec` process instead (the same process-level code). With
// `--supervise` (the pct backend's entrypoint) it stays pid 1 and runs the
// protocol in a child whose exit status it records.
//
// It works in /.lxcri. The environment variable LXCRI_INIT_DIR names another
// directory; it exists for tests that run the helper on the host, and
// backends must not set it.

#include "init/helper.hpp"

#include <lxcri/init_protocol.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

int main(int argc, char** argv) {
    // `/.lxcri/init --exec FILE [--console SOCKET]`: a process joining the running container.
    namespace proto = lxcri::init_protocol;
    if (argc >= 3 && std::strcmp(argv[1], proto::exec_flag) == 0) {
        if (argc == 3) lxcri::init::run_exec(argv[2], std::nullopt);
        if (argc == 5 && std::strcmp(argv[3], proto::console_flag) == 0) lxcri::init::run_exec(argv[2], argv[4]);
        std::fputs("usage: init --exec FILE [--console SOCKET]\n", stderr);
        return 2;
    }
    const char* env_dir = std::getenv("LXCRI_INIT_DIR");
    const char* dir = env_dir && *env_dir ? env_dir : lxcri::init_protocol::mount_point;
    if (argc == 2 && std::strcmp(argv[1], lxcri::init_protocol::supervise_flag) == 0)
        return lxcri::init::run_supervisor(dir);
    return lxcri::init::run_helper(dir);
}
