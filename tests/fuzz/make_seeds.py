#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz, docs/FUZZING.md)
into OUT/<target>/: the config.json files of tests/fixtures, and small
generated state files, config files, command lines and tar archives.

The regression seeds of issue 11 are among them, so that even a short run
starts from the inputs that once went wrong:
  item 1  a directory entry etcx (mode 0777, mtime 0), then ../evil
  item 2  "%value%" and "x%invalid_line%" in option values and config lines
  item 3  a state.json naming another container or a VMID of 2^40; VMIDs
          -5 and 2^32+N, duplicates and ids like ../../x in mapping.json
  item 8  empty paths (root =, --root "")

Every seed is the same on every run (fixed times, no randomness)."""

import bz2
import gzip
import io
import json
import lzma
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]


def write(out, target, name, data):
    directory = out / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def oci_config(out):
    fixtures = SOURCE / "tests" / "fixtures"
    for index, path in enumerate(sorted(fixtures.rglob("*.json"))):
        write(out, "oci_config", f"{index:03d}-{path.stem}", path.read_bytes())


STATE = {
    "ociVersion": "1.2.0", "id": "c1", "status": "created", "pid": 0, "bundle": "/srv/bundle",
    "annotations": {"org.example/team": "ci"}, "vmid": 4711, "backend": "dry-run",
    "created": "2026-01-02T03:04:05.000000000Z",
}


def state_file(out):
    def seed(name, **changes):
        state = dict(STATE)
        for key, value in changes.items():
            if value is None:
                del state[key]
            else:
                state[key] = value
        write(out, "state_file", name, json.dumps(state))

    seed("valid")
    seed("running", status="running", pid=4242, backend="lxc")
    seed("other-id", id="c2")                     # item 3: kill c1 acted on c2
    seed("vmid-2-40", vmid=1 << 40)               # item 3: read as VMID 0
    seed("vmid-wrapped", vmid=(1 << 32) + 150)
    seed("vmid-negative", vmid=-5)
    seed("backend-path", backend="../../tmp/evil")
    seed("pid-negative", pid=-1)
    seed("types", vmid="4711", pid=None, annotations=[])
    write(out, "state_file", "truncated", json.dumps(STATE)[:40])


def mapping_file(out):
    def seed(name, containers, version=1):
        write(out, "mapping_file", name, json.dumps({"version": version, "containers": containers}, indent=2))

    entry = {"vmid": 150, "backend": "lxc", "created": "2026-01-02T03:04:05Z"}
    seed("valid", {"a": entry, "b": dict(entry, vmid=151, backend="dry-run")})
    seed("empty", {})
    seed("vmid-negative", {"a": dict(entry, vmid=-5)})                 # item 3: wrapped
    seed("vmid-wrapped", {"a": dict(entry, vmid=(1 << 32) + 150)})
    seed("vmid-2-40", {"a": dict(entry, vmid=1 << 40)})
    seed("duplicate", {"a": entry, "b": entry})                        # item 3: accepted
    seed("id-path", {"../../x": entry})                                # item 3: accepted
    seed("types", {"a": {"vmid": "150", "backend": 5}})
    seed("version", {}, version=2)
    # The fuzzer's find of 2026-12-07: an id whose shortened echo ended in
    # "[boost..." read as a Boost error category to the message check.
    seed("id-echo-cut", {"betnboost::" + "*" * 45 + "(*[boostqqqqqq++.+++++++." + "+" * 20: dict(entry, vmid=151)})


def config_file(out):
    def seed(name, text):
        write(out, "config_file", name, text)

    seed("packaged", (SOURCE / "packaging" / "config").read_text())
    seed("full", "backend = lxc\nmapping = incremental\nroot = /run/x\nstate-dir = /var/lib/x\n"
                 "vmid-min = 200\nvmid-max = 300\nlog-format = json\ndebug = true\nplugin-dir = /opt/p\n"
                 "[pct]\nstorage = local-zfs\nbridge = vmbr1\n[dry-run]\nvmids-in-use = 100-105,200\n")
    seed("placeholder-value", "vmid-min = %value%\n")              # item 2
    seed("placeholder-line", "x%invalid_line%\n")                  # item 2
    seed("placeholder-key", "%canonical_option% = 1\n")
    seed("empty-root", "root =\n")                                 # item 8
    seed("empty-state-dir", "state-dir = \n")                      # item 8
    seed("bad-values", "vmid-min = 99\nvmid-max = 1000000000\ndebug = maybe\nbackend = ../x\n")


def command_line(out):
    def seed(name, *argv):
        write(out, "command_line", name, "\0".join(argv))

    seed("create", "--root", "/run/x", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/p",
         "--console-socket", "/s", "--preserve-fds", "2", "c1")
    seed("run", "--systemd-cgroup", "run", "-d", "--keep", "-b", "/b", "c1")
    seed("exec", "exec", "-t", "-e", "A=1", "-u", "1000:1000", "-g", "10", "-c", "CAP_CHOWN", "--cwd", "/",
         "c1", "sh", "-c", "true")
    seed("kill", "kill", "--all", "c1", "SIGKILL")
    seed("delete", "delete", "--force", "c1")
    seed("list", "list", "--format", "json", "-q")
    seed("ps", "ps", "--format", "table", "c1", "-ef")
    seed("update", "update", "--resources", "-", "c1")
    seed("spec", "spec", "--rootless", "--bundle", "/b")
    seed("bundle-create", "bundle", "create", "/b", "--rootfs", "/r.tar", "--args", "/bin/sh,-c,true", "--env",
         "A=B", "--cwd", "/", "--user", "1:2", "--memory", "64m", "--cpus", "1.5", "--mount", "/a:/b:ro,nosuid",
         "--annotation", "k=v", "--readonly", "--hostname", "h")
    seed("bundle-validate", "bundle", "validate", "--format", "json", "/b")
    seed("bundle-image", "bundle", "create", "/b", "--image", "docker://registry.example:5000/a/b:1@sha256:" + "0" * 64,
         "--platform", "linux/arm64/v8")
    seed("pull", "pull", "--tls-verify=false", "--platform", "linux/amd64", "--authfile", "/a", "docker://alpine:3.19")
    seed("cache", "cache", "prune", "--all")
    seed("placeholder-flag", "--vmid-min=%value%", "list")                            # item 2
    seed("placeholder-exec", "exec", "--preserve-fds", "%value%", "c1", "true")       # item 2
    seed("placeholder-option", "--%option%", "list")
    seed("empty-root", "--root", "", "list")                                          # item 8
    seed("empty-pid-file", "create", "--pid-file", "", "--bundle", "", "c1")          # item 8
    seed("double-dash", "--debug", "--", "state", "c1")


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (TarInfo fields, content) pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for fields, content in entries:
            info = tarfile.TarInfo(fields.pop("name"))
            info.mtime = 1000000000
            info.mode = 0o644
            for key, value in fields.items():
                setattr(info, key, value)
            if content is not None:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
            else:
                archive.addfile(info)
    # Without tarfile's padding to 10 KiB: the end-of-archive blocks suffice,
    # and mutations then fall on entries rather than on zeros.
    data = buffer.getvalue()
    end = (len(data.rstrip(b"\0")) + 511) // 512 * 512
    return data[:end + 1024]


def d(name, **fields):
    return dict(dict(name=name, type=tarfile.DIRTYPE, mode=0o755), **fields), None


def f(name, content=b"data\n", **fields):
    return dict(name=name, **fields), content


def link(name, target, kind=tarfile.SYMTYPE):
    return dict(name=name, type=kind, linkname=target), None


def archives(out):
    rootfs = tar_bytes([
        d("./"), d("etc"), f("etc/hostname", b"box\n"), f("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        d("usr"), d("usr/bin"), f("usr/bin/sh", b"\x7fELF", mode=0o755), link("bin", "usr/bin"),
        link("etc/passwd-", "etc/passwd", tarfile.LNKTYPE), d("dev"), (dict(name="dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666), None),
        (dict(name="run.fifo", type=tarfile.FIFOTYPE), None),
        f("x" * 120 + "/long", b"long name\n"),
        (dict(name="xattr", pax_headers={"SCHILY.xattr.user.test": "value"}), b"xattr\n"),
        (dict(name="owned", uid=1000, gid=1000, uname="user", gname="user"), b"owned\n"),
        (dict(name="setuid", mode=0o4755), b"\x7fELF"),
        d("tmp", mode=0o1777),
    ])
    seeds = {
        "rootfs": rootfs,
        "rootfs.gnu": tar_bytes([d("etc"), f("etc/os-release", b"ID=test\n"), f("a" * 150, b"gnu long\n")],
                                tarfile.GNU_FORMAT),
        # item 1: etcx was chmod 0777 and dated 1970 in the caller's directory
        "etcx-evil": tar_bytes([d("etcx", mode=0o777, mtime=0), f("../evil", b"evil\n")]),
        "absolute": tar_bytes([f("/etc/evil", b"evil\n")]),
        "dotdot-inside": tar_bytes([d("a"), f("a/../../evil", b"evil\n")]),
        "symlink-root": tar_bytes([link("link", "/"), f("link/evil", b"evil\n")]),
        "symlink-up": tar_bytes([link("up", ".."), f("up/evil", b"evil\n"), d("up/dir")]),
        "hardlink-out": tar_bytes([link("hl", "../outside", tarfile.LNKTYPE)]),
        "hardlink-abs": tar_bytes([link("hl", "/etc/passwd", tarfile.LNKTYPE)]),
        "dir-over-symlink": tar_bytes([link("etc", "/etc"), d("etc", mode=0o777)]),
        # layers: whiteouts, an opaque directory, replacing a symlink and a directory
        "whiteouts": tar_bytes([f(".wh.bin", b""), d("etc"), f("etc/.wh.passwd", b""),
                                f("opaque/.wh..wh..opq", b""), f("opaque/new", b"new\n"),
                                f("host-root", b"replaced a symlink\n"), f("var", b"replaced a directory\n"),
                                f(".wh.up", b""), f(".wh..wh..opq", b"")]),
        "through-symlink": tar_bytes([f("host-root/etc/evil", b"evil\n"), f("up/evil", b"evil\n"),
                                      f("to-canary", b"over\n"), d("bin/sub")]),
    }
    seeds["rootfs.tar.gz"] = gzip.compress(rootfs, mtime=0)
    seeds["rootfs.tar.xz"] = lzma.compress(rootfs)
    seeds["rootfs.tar.bz2"] = bz2.compress(rootfs)
    if shutil.which("zstd"):
        seeds["rootfs.tar.zst"] = subprocess.run(["zstd", "-q", "-c"], input=rootfs, stdout=subprocess.PIPE,
                                                 check=True).stdout
    for target in ("archive_extract", "archive_layer"):
        for name, data in seeds.items():
            write(out, target, name, data)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUT")
    out = Path(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    for make in (oci_config, state_file, mapping_file, config_file, command_line, archives):
        make(out)


if __name__ == "__main__":
    main()
