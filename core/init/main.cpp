// proxmox-lxcri-init: the container's first process. It waits on the exec
// fifo until `start`, then becomes process.args (include/lxcri/init_protocol.hpp).
// Statically linked: it runs in any rootfs. With `--exec FILE` it sets up
// and runs an `exec` process instead (the same process-level code). With
// `--supervise` (init_protocol.hpp, step 5) it stays pid 1 and runs the
// protocol in a child whose exit status it records. With `--setup` (step
// 2) it first finishes the container, as runc's init does.
//
// It works in /.lxcri. The environment variable LXCRI_INIT_DIR names another
// directory; it exists for tests that run the helper on the host, and
// backends must not set it.

#include "init/helper.hpp"

#include <lxcri/init_protocol.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

int main(int argc, char** argv) {
    // `/.lxcri/init --exec FILE --sha256 HEX [--console SOCKET] [--preserve-fds N] [--error FILE]`:
    // a process joining the running container.
    namespace proto = lxcri::init_protocol;
    if (argc >= 3 && std::strcmp(argv[1], proto::exec_flag) == 0) {
        std::optional<std::filesystem::path> console;
        std::optional<std::filesystem::path> error;
        std::string sha256;
        unsigned long preserve_fds = 0;
        bool ok = argc % 2 == 1;
        for (int i = 3; ok && i + 1 < argc; i += 2) {
            char* end = nullptr;
            if (std::strcmp(argv[i], proto::console_flag) == 0)
                console = argv[i + 1];
            else if (std::strcmp(argv[i], proto::error_flag) == 0)
                error = argv[i + 1];
            else if (std::strcmp(argv[i], proto::sha256_flag) == 0)
                sha256 = argv[i + 1];
            else if (std::strcmp(argv[i], proto::preserve_fds_flag) == 0) {
                preserve_fds = std::strtoul(argv[i + 1], &end, 10);
                ok = *argv[i + 1] != '\0' && *end == '\0';
            } else
                ok = false;
        }
        if (ok && sha256.size() == 64 && preserve_fds <= 1000000)
            lxcri::init::run_exec(argv[2], sha256, console, static_cast<unsigned>(preserve_fds), error);
        std::fputs("usage: init --exec FILE --sha256 HEX [--console SOCKET] [--preserve-fds N] [--error FILE]\n", stderr);
        return 2;
    }
    const char* env_dir = std::getenv("LXCRI_INIT_DIR");
    const char* dir = env_dir && *env_dir ? env_dir : lxcri::init_protocol::mount_point;
    if (argc == 2 && std::strcmp(argv[1], lxcri::init_protocol::supervise_flag) == 0)
        return lxcri::init::run_supervisor(dir);
    if (argc == 2 && std::strcmp(argv[1], lxcri::init_protocol::setup_flag) == 0)
        return lxcri::init::run_helper(dir, true);
    return lxcri::init::run_helper(dir);
}
