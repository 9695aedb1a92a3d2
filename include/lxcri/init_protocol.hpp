#pragma once

// How a backend and the init helper (proxmox-lxcri-init) talk. The backend
// makes <root>/<id>/rt/ on the host and bind-mounts it at /.lxcri in the
// container (owned by the container's root), with the helper binary bind-
// mounted read-only at /.lxcri/init, and runs /.lxcri/init as the container's
// init. See docs/ARCHITECTURE.md, "create/start".
//
//   1. The backend writes rt/config.json (the bundle's config.json) and makes
//      the fifo rt/exec.fifo, then starts the container.
//      With process.terminal the backend also listens on rt/console.sock.
//   2. The helper parses /.lxcri/config.json. Started as `/.lxcri/init
//      --setup` (the lxc backend), it first finishes the container as
//      runc's init does (core/init/container_setup.hpp: device nodes,
//      /dev/ptmx, propagation, readonly and masked paths); a failure there
//      is reported as in step 4. With process.terminal it opens
//      a pty in the container's own devpts (/dev/ptmx), makes the slave its
//      stdin, stdout and stderr, and sends the master (SCM_RIGHTS, payload
//      "ptmx") to /.lxcri/console.sock; the backend passes it on to the
//      caller's --console-socket. Then it writes its pid to
//      /.lxcri/ready (temp + rename); when /.lxcri/ready.sock is there (the
//      lxc backend listens on it), it connects to it and closes the
//      connection, which wakes the backend (the file is what counts: a
//      failed connect changes nothing). Then it opens /.lxcri/exec.fifo for
//      writing, which blocks: the container is "created".
//   3. `start` opens the fifo for reading and reads one byte; the helper's open
//      returns, it writes that byte, applies the process settings of
//      config.json (terminal, rlimits, oom score, user and groups, cwd, env,
//      capabilities, no_new_privileges, apparmor, seccomp) and execs
//      process.args. The backend removes the fifo: the container is "running".
//   4. Any failure before the exec is written to /.lxcri/error as one line
//      ("exec: sh: executable file not found in $PATH") and the helper exits
//      with 127 (not found), 126 (not executable / permission denied) or 1.
//   5. When a service manager starts the container, so that the caller
//      cannot wait for its init, the init is `/.lxcri/init --supervise`: a
//      minimal pid 1. The backend listens on rt/handover.sock before it
//      starts the container; the supervisor connects first thing (when the
//      socket is there; without it there is nothing to hand over) and
//      receives one message (SCM_RIGHTS) whose payload names its
//      descriptors, one word each group: "stdio" for three (the caller's
//      stdin, stdout and stderr, which the container process gets), and
//      "network", "ipc" or "uts" for one namespace to join (setns), which
//      it joins before anything else, so that the process and every `exec`
//      run in it. The backend learns the init's pid from the connection
//      (SO_PEERCRED). Then the supervisor runs steps 2-4 in a child,
//      forwards every signal it gets to that child and reaps orphans. When
//      the child ends it writes /.lxcri/exit-status ("exit N" or "signal
//      N", one line) and exits with the same code (128 + N for a signal),
//      which stops the container. This file is how the backend's pid-file
//      process learns the container process's status.
//   6. `exec` runs `/.lxcri/init --exec /.lxcri/<file>.json --sha256 HEX`
//      in the running container: the helper reads the file (a regular
//      file, not through a symlink), refuses it unless its SHA-256 is HEX
//      (the container's root can write in /.lxcri, but not change argv),
//      applies that config.json's process and execs it. With process.terminal the backend adds `--console
//      /.lxcri/<file>.sock`, a socket it listens on, and the helper sends
//      the master there as in step 2. Unless the exec is detached, the
//      backend also adds `--error /.lxcri/<file>.error`, an empty file the
//      helper opens at once (close-on-exec, so the process never sees it):
//      a failure before the exec goes there as one line instead of to
//      stderr, and the caller reports it as its own error, as runc does
//      ("exec failed: ...", exit 255), not as the process's exit status.
//   7. --preserve-fds N: descriptors 3 .. 3+N-1 reach the helper, which
//      keeps them open for process.args (every other one is closed). The
//      backend writes N to rt/preserve-fds for the init; an exec gets
//      `--preserve-fds N`.

namespace lxcri::init_protocol {

inline constexpr const char* host_subdir = "rt";          // <root>/<id>/rt
inline constexpr const char* mount_point = "/.lxcri";     // rt/ inside the container
inline constexpr const char* helper = "/.lxcri/init";     // the helper, read-only
inline constexpr const char* helper_file = "init";        // rt/init: where the helper is bind-mounted
inline constexpr const char* config_file = "config.json";
inline constexpr const char* exec_fifo = "exec.fifo";
inline constexpr const char* ready_file = "ready";
inline constexpr const char* ready_socket = "ready.sock";  // step 2: the backend's wake-up
inline constexpr const char* error_file = "error";
inline constexpr const char* console_socket = "console.sock";  // process.terminal, step 2
inline constexpr const char* exec_flag = "--exec";             // step 6
inline constexpr const char* console_flag = "--console";       // step 6, with process.terminal
inline constexpr const char* sha256_flag = "--sha256";         // step 6: the process file's digest
inline constexpr const char* error_flag = "--error";           // step 6, unless detached
inline constexpr const char* preserve_fds_file = "preserve-fds";  // --preserve-fds N: "N", when N > 0
inline constexpr const char* preserve_fds_flag = "--preserve-fds";  // step 6
inline constexpr const char* exit_status_file = "exit-status";  // written by --supervise
inline constexpr const char* supervise_flag = "--supervise";     // step 5
inline constexpr const char* handover_socket = "handover.sock";  // step 5
inline constexpr const char* handover_stdio = "stdio";           // step 5: the payload word for stdin, stdout, stderr
inline constexpr const char* setup_flag = "--setup";             // step 2: finish the container first
inline constexpr const char* helper_name = "proxmox-lxcri-init";  // file name in the libexec dir

}  // namespace lxcri::init_protocol
