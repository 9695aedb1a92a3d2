#pragma once

// What runc's init does to the container after the mounts and before the
// process: liblxc has made every mount of the spec in its order (the lxc
// backend's TargetPolicy::init_setup, include/lxcri/lxc_config.hpp), and
// the helper, as the container's pid 1 with the container's full
// capabilities, finishes it with `/.lxcri/init --setup` before it reports
// ready. Every failure throws lxcri::Error naming the spec's field, so
// that `create` fails as it does with runc.

#include <lxcri/container_spec.hpp>

#include <string_view>

namespace lxcri::init {

// In runc's order:
// - the rootfs's propagation (linux.rootfsPropagation), then each mount's
//   propagation option;
// - unless /dev is a bind mount: the default device nodes (null, zero,
//   full, random, urandom, tty; 0666 root:root) and linux.devices by mknod
//   with their type, major/minor, fileMode, uid and gid (in a new user
//   namespace, where mknod is refused, the translation bind-mounts them and
//   only FIFOs are made here); /dev/ptmx a symlink to pts/ptmx; the /dev/fd,
//   stdin, stdout, stderr (and core) symlinks;
// - the hostname, in a UTS namespace joined by path (a new one has it from
//   liblxc);
// - linux.readonlyPaths (a read-only bind onto itself), then
//   linux.maskedPaths (a read-only tmpfs on a directory, /dev/null on
//   anything else). Neither opens the path: a FIFO, socket or device node
//   there is covered like any file.
void setup_container(const ContainerSpec& spec);

// MS_* for a propagation option ("rshared", ...), 0 for any other option.
unsigned long propagation_flags(std::string_view option);

}  // namespace lxcri::init
