"""A strict test double of Proxmox VE's `pct` and `pvesh` (tests/fakes/pct,
tests/fakes/pvesh): what ../shared/reference/pct.md says pct accepts, it
accepts; everything else gets pct's message on stderr and exit 255.

State lives in $FAKE_PVE_DIR, laid out as /etc/pve is:
  lxc/<vmid>.conf     CT configs in Proxmox's format
  .vmlist             {"version":N,"ids":{"<vmid>":{"node","type","version"}}}
  storage.cfg         storages (Proxmox's default pair when missing)
  datacenter.cfg      optional "next-id: lower=N,upper=M"
  .fake/              the double's own: volumes, LXC configs, call counts

Environment:
  FAKE_PVE_DIR        required
  FAKE_PVE_NODE       this node's name (default pve)
  FAKE_PVE_BRIDGES    bridges that exist on the "host" (default vmbr0)
  FAKE_PCT_LOG        call log, one JSON object per call (default $FAKE_PVE_DIR/calls.jsonl)
  FAKE_PCT_FAIL       "cmd[#n],...": fail the n-th (default: every) call of
                      `pct cmd` (or `pvesh nextid`) with exit 255
  FAKE_PCT_FAIL_MESSAGE  the message of such a failure
  FAKE_PCT_TAKEN_ON_OTHER_NODE  "vmid,...": `pct create <vmid>` finds that
                      another node took the VMID just before (a lost race)

`pct start` runs the CT for real with LXC (lxc-start -F, detached, as
pve-container@<vmid> does) from an LXC config generated from the CT config;
see docs/PROXMOX.md, "The test double".
"""

import ctypes
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

# ---- errors ----------------------------------------------------------------------


class PveError(Exception):
    """A failure: `message` goes to stderr, the exit code is 255."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def param_error(param, msg):
    return PveError("400 Parameter verification failed.\n%s: %s" % (param, msg))


class Invalid(Exception):
    """A value that does not match its format; becomes a param_error."""


# ---- the double's own state ------------------------------------------------------------

WARNINGS = []


def warn(message):
    WARNINGS.append(message)
    sys.stderr.write(message + "\n")


def pve_dir():
    d = os.environ.get("FAKE_PVE_DIR")
    if not d:
        raise PveError("fake pve: FAKE_PVE_DIR is not set")
    return d


def node():
    return os.environ.get("FAKE_PVE_NODE", "pve")


def fake_dir(*parts):
    path = os.path.join(pve_dir(), ".fake", *parts)
    return path


def ensure_dir(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)


class Lock:
    """pmxcfs makes config changes atomic; one lock file stands for it."""

    def __enter__(self):
        ensure_dir(fake_dir())
        self.fd = os.open(fake_dir("lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def write_atomic(path, text, mode=0o640):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def log_call(prog, argv, code, stderr_text):
    path = os.environ.get("FAKE_PCT_LOG") or os.path.join(pve_dir(), "calls.jsonl")
    line = json.dumps({"prog": prog, "argv": argv, "exit": code, "stderr": stderr_text, "warnings": WARNINGS}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def injected_failure(command):
    """True when FAKE_PCT_FAIL says this call of `command` fails."""
    spec = os.environ.get("FAKE_PCT_FAIL", "")
    if not spec:
        return False
    with Lock():
        counts_file = fake_dir("counts.json")
        counts = json.load(open(counts_file)) if os.path.exists(counts_file) else {}
        counts[command] = counts.get(command, 0) + 1
        write_atomic(counts_file, json.dumps(counts))
    for item in spec.split(","):
        name, _, nth = item.strip().partition("#")
        if name == command and (not nth or int(nth) == counts[command]):
            return True
    return False


# ---- value formats (PVE::JSONSchema) ------------------------------------------------------

TRUE = {"1", "yes", "on", "true"}
FALSE = {"0", "no", "off", "false"}


def is_bool(value):
    return value.lower() in TRUE | FALSE


def boolean(value):
    if not is_bool(value):
        raise Invalid("type check ('boolean') failed - got '%s'" % value)
    return "1" if value.lower() in TRUE else "0"


def integer(minimum=None, maximum=None):
    def check(value):
        if not re.fullmatch(r"[+-]?\d+", value):
            raise Invalid("type check ('integer') failed - got '%s'" % value)
        n = int(value)
        if minimum is not None and n < minimum:
            raise Invalid("value must have a minimum value of %d" % minimum)
        if maximum is not None and n > maximum:
            raise Invalid("value must have a maximum value of %d" % maximum)
        return value
    return check


def number(minimum=None, maximum=None):
    def check(value):
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value):
            raise Invalid("type check ('number') failed - got '%s'" % value)
        n = float(value)
        if minimum is not None and n < minimum:
            raise Invalid("value must have a minimum value of %s" % minimum)
        if maximum is not None and n > maximum:
            raise Invalid("value must have a maximum value of %s" % maximum)
        return value
    return check


def enum(*values):
    def check(value):
        if value not in values:
            raise Invalid("value '%s' does not have a value in the enumeration '%s'" % (value, ", ".join(values)))
        return value
    return check


def string(max_length=None, pattern=None, what=None):
    def check(value):
        if max_length is not None and len(value) > max_length:
            raise Invalid("value may only be %d characters long" % max_length)
        if pattern is not None and not re.fullmatch(pattern, value):
            raise Invalid("value does not look like a valid %s" % what if what else "value does not match the regex pattern")
        return value
    return check


DNS_NAME = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?"
STORAGE_ID = r"[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]"
VMID = r"[1-9][0-9]{2,8}"
IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"


def vmid_value(value):
    if not re.fullmatch(VMID, value):
        raise param_error("vmid", "value does not look like a valid VM ID")
    return int(value)


def no_control(value):
    if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value):
        raise Invalid("value must not contain control characters")
    return value


def env_value(value):
    for item in value.split("\0"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", item, re.S) or "\n" in item:
            raise Invalid("invalid environment variable '%s'" % item)
    return value


# Property strings: "default,key=value,...".
def parse_property_string(value, keys, default_key=None):
    out = {}
    for i, part in enumerate(value.split(",")):
        if "=" in part:
            k, v = part.split("=", 1)
        elif i == 0 and default_key:
            k, v = default_key, part
        else:
            raise Invalid("invalid format - missing key in comma-separated list property")
        if k not in keys:
            raise Invalid("invalid format - unknown key '%s'" % k)
        if k in out:
            raise Invalid("invalid format - duplicate key in comma-separated list property: %s" % k)
        try:
            out[k] = keys[k](v)
        except Invalid as e:
            raise Invalid("invalid format - %s: %s" % (k, e))
    return out


def print_property_string(props, default_key=None, first=()):
    parts = []
    if default_key and default_key in props:
        parts.append(props[default_key])
    for k in first:
        if k in props:
            parts.append("%s=%s" % (k, props[k]))
    for k in sorted(props):
        if k != default_key and k not in first:
            parts.append("%s=%s" % (k, props[k]))
    return ",".join(parts)


def path_value(value):
    if not value.startswith("/"):
        raise Invalid("value does not look like a valid absolute path")
    if re.search(r"(^|/)\.\.?(/|$)", value):
        raise Invalid("invalid path: '%s' contains '.' or '..' components" % value)
    return value


MOUNT_OPTIONS = {"noatime", "lazytime", "nodev", "noexec", "nosuid", "discard"}


def mount_options(value):
    for option in value.split(";"):
        if option not in MOUNT_OPTIONS:
            raise Invalid("value '%s' does not have a value in the enumeration '%s'"
                          % (option, ", ".join(sorted(MOUNT_OPTIONS))))
    return value


def disk_size(value):
    if not re.fullmatch(r"\d+(\.\d+)?[KMGT]?", value):
        raise Invalid("value does not look like a valid disk size")
    return value


def volume(value):
    if not value or re.search(r"[,\s]", value):
        raise Invalid("value does not look like a valid volume id or path")
    return value


ROOTFS_KEYS = {"volume": volume, "acl": boolean, "mountoptions": mount_options, "quota": boolean,
               "replicate": boolean, "ro": boolean, "shared": boolean, "size": disk_size}
MP_KEYS = dict(ROOTFS_KEYS, mp=path_value, backup=boolean)


def rootfs_value(value):
    props = parse_property_string(value, ROOTFS_KEYS, "volume")
    if "volume" not in props:
        raise Invalid("invalid format - missing key 'volume'")
    if props["volume"].startswith("/"):
        raise Invalid("invalid format - volume: the rootfs must be a storage volume")
    return props


def mp_value(value):
    props = parse_property_string(value, MP_KEYS, "volume")
    for key in ("volume", "mp"):
        if key not in props:
            raise Invalid("invalid format - missing key '%s'" % key)
    if props["volume"].startswith("/"):
        path_value(props["volume"])
    return props


def mac(value):
    if not re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", value) or int(value[:2], 16) & 1:
        raise Invalid("value does not look like a valid unicast MAC address")
    return value


def ip4(value):
    if value in ("dhcp", "manual"):
        return value
    m = re.fullmatch(r"(%s)/(\d+)" % IPV4, value)
    if not m or int(m.group(2)) > 32:
        raise Invalid("value does not look like a valid IPv4 network configuration")
    return value


def ip6(value):
    if value in ("auto", "dhcp", "manual"):
        return value
    m = re.fullmatch(r"([0-9a-fA-F:]+)/(\d+)", value)
    if not m or int(m.group(2)) > 128 or "::" in m.group(1)[m.group(1).find("::") + 1:]:
        raise Invalid("value does not look like a valid IPv6 network configuration")
    return value


NET_KEYS = {"name": string(pattern=r"[-_.\w\d]+", what="interface name"),
            "bridge": string(pattern=r"[-_.\w\d]+", what="bridge id"),
            "firewall": boolean, "gw": string(pattern=IPV4, what="IPv4 address"),
            "gw6": string(pattern=r"[0-9a-fA-F:]+", what="IPv6 address"), "host-managed": boolean,
            "hwaddr": mac, "ip": ip4, "ip6": ip6, "link_down": boolean, "mtu": integer(64, 65535),
            "rate": number(0), "tag": integer(1, 4094), "trunks": string(pattern=r"\d+(;\d+)*", what="trunk list"),
            "type": enum("veth")}


def net_value(value):
    props = parse_property_string(value, NET_KEYS)
    if "name" not in props:
        raise Invalid("invalid format - missing key 'name'")
    return props


FEATURE_KEYS = {"force_rw_sys": boolean, "fuse": boolean, "keyctl": boolean, "mknod": boolean,
                "mount": string(pattern=r"[a-zA-Z0-9_]+(;[a-zA-Z0-9_]+)*", what="file system list"),
                "nesting": boolean}


def features_value(value):
    return print_property_string(parse_property_string(value, FEATURE_KEYS))


DEV_KEYS = {"path": string(pattern=r"/dev/.+", what="device path"), "deny-write": boolean,
            "gid": integer(0), "mode": string(pattern=r"0?[0-7]{3}", what="mode"), "uid": integer(0)}


def dev_value(value):
    props = parse_property_string(value, DEV_KEYS, "path")
    if "path" not in props:
        raise Invalid("invalid format - missing key 'path'")
    return print_property_string(props, "path")


def startup_value(value):
    parse_property_string(value, {"order": integer(), "up": integer(0), "down": integer(0)}, "order")
    return value


# The options of `pct create` and `pct set` (the config keys), and create's own.
CONFIG_OPTIONS = {
    "arch": enum("amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"),
    "ostype": enum("debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo",
                   "nixos", "unmanaged"),
    "hostname": string(255, DNS_NAME, "DNS name"),
    "memory": integer(16),
    "swap": integer(0),
    "cores": integer(1, 8192),
    "cpulimit": number(0, 8192),
    "cpuunits": integer(0, 500000),
    "rootfs": lambda v: print_property_string(rootfs_value(v), "volume"),
    "features": features_value,
    "unprivileged": boolean,
    "cmode": enum("tty", "console", "shell"),
    "console": boolean,
    "tty": integer(0, 6),
    "onboot": boolean, "protection": boolean, "template": boolean, "debug": boolean,
    "startup": startup_value,
    "description": string(8192),
    "nameserver": string(), "searchdomain": string(), "timezone": string(), "tags": string(),
    "hookscript": string(), "lock": string(),
    "entrypoint": no_control,
    "env": env_value,
}
for _n in range(256):
    CONFIG_OPTIONS["mp%d" % _n] = lambda v: print_property_string(mp_value(v), "volume")
    CONFIG_OPTIONS["dev%d" % _n] = dev_value
for _n in range(32):
    CONFIG_OPTIONS["net%d" % _n] = lambda v: print_property_string(net_value(v), first=("name",))

CREATE_OPTIONS = {"storage": string(pattern=STORAGE_ID, what="storage id"), "password": string(),
                  "ssh-public-keys": string(), "force": boolean, "restore": boolean, "unique": boolean,
                  "pool": string(), "ignore-unpack-errors": boolean, "bwlimit": number(0), "start": boolean,
                  "ha-managed": boolean}

BOOLEAN_OPTIONS = {k for k, v in list(CONFIG_OPTIONS.items()) + list(CREATE_OPTIONS.items()) if v is boolean}


def parse_cli(argv, options, positional, booleans=(), allow_command=False):
    """pct's calling convention: `--opt val` or `-opt val`, a bare boolean is 1.
    Returns (positional values, {option: value}, command after "--")."""
    args, opts, command = [], {}, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--" and allow_command:
            command = argv[i + 1:]
            break
        if a.startswith("-") and len(a) > 1 and not a.startswith("---"):
            name = a[2:] if a.startswith("--") else a[1:]
            if name not in options:
                raise param_error(name, "property is not defined in schema and the schema does not allow "
                                        "additional properties")
            if name in opts:
                raise param_error(name, "duplicate parameter")
            if name in booleans:
                if i + 1 < len(argv) and is_bool(argv[i + 1]):
                    opts[name] = argv[i + 1]
                    i += 2
                else:
                    opts[name] = "1"
                    i += 1
                continue
            if i + 1 >= len(argv):
                raise PveError("400 unable to parse option\nOption %s requires an argument" % name)
            opts[name] = argv[i + 1]
            i += 2
            continue
        args.append(a)
        i += 1
    if len(args) < len(positional):
        raise PveError("400 not enough arguments")
    if len(args) > len(positional):
        raise PveError("400 too many arguments")
    checked = {}
    for name, value in opts.items():
        try:
            checked[name] = options[name](value)
        except Invalid as e:
            raise param_error(name, str(e))
    return args, checked, command


# ---- config files --------------------------------------------------------------------------

RAW_ALLOWED = [r"lxc\.apparmor\..+", r"lxc\.init\.(cmd|cwd|uid|gid|groups)", r"lxc\.environment(\.runtime)?",
               r"lxc\.mount\.(entry|auto|fstab)", r"lxc\.cap\.(drop|keep)", r"lxc\.seccomp\..+", r"lxc\.idmap",
               r"lxc\.hook\..+", r"lxc\.autodev", r"lxc\.signal\..+", r"lxc\.uts\.name", r"lxc\.cgroup2\..+",
               r"lxc\.prlimit\..+", r"lxc\.net\..+",
               r"lxc\.sysctl\.(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+)",
               r"lxc\.console\..+", r"lxc\.tty\.max", r"lxc\.pty\.max", r"lxc\.include", r"lxc\.arch", r"lxc\.log\..+"]
RAW_FORBIDDEN = {"lxc.rootfs.path": "lxc.rootfs.path is auto generated from rootfs",
                 "lxc.rootfs.options": "lxc.rootfs.options is not supported, use mount point options in the rootfs "
                                       "property instead"}


def conf_path(vmid):
    return os.path.join(pve_dir(), "lxc", "%d.conf" % vmid)


def missing_conf(vmid):
    return PveError("Configuration file 'nodes/%s/lxc/%d.conf' does not exist" % (node(), vmid))


def encode_text(text):
    # PVE::Tools::encode_text: control, non-ASCII and ':' as %XX.
    return "".join(c if 0x20 <= ord(c) <= 0x7e and c != ":" else "".join("%%%02X" % b for b in c.encode())
                   for c in text)


def decode_text(text):
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def read_conf(vmid):
    """(options, raw lxc keys, description) of the current config."""
    path = conf_path(vmid)
    if not os.path.exists(path):
        raise missing_conf(vmid)
    conf, raw, descr = {}, [], []
    for line in open(path).read().splitlines():
        if re.match(r"^\[.*\]\s*$", line):
            break  # a snapshot or the pending section
        if not line.strip():
            continue
        if line.startswith("#"):
            descr.append(decode_text(line[1:]))
            continue
        m = re.match(r"^(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*$", line)
        if m:
            key, value = m.group(1), m.group(3)
            if any(re.fullmatch(p, key) for p in RAW_ALLOWED):
                raw.append((key, value))
            elif key in RAW_FORBIDDEN:
                warn("vm %d - %s" % (vmid, RAW_FORBIDDEN[key]))
            else:
                warn("vm %d - unable to parse config: %s" % (vmid, line))
            continue
        m = re.match(r"^([a-z][a-z_\-]*\d*):\s*(.*?)\s*$", line)
        if m and m.group(1) in CONFIG_OPTIONS:
            try:
                conf[m.group(1)] = CONFIG_OPTIONS[m.group(1)](m.group(2))
            except Invalid as e:
                warn("vm %d - unable to parse value of '%s' - %s" % (vmid, m.group(1), e))
            continue
        warn("vm %d - unable to parse config: %s" % (vmid, line))
    return conf, raw, "\n".join(descr)


def write_conf(vmid, conf, raw, descr):
    text = "".join("#%s\n" % encode_text(line) for line in descr.split("\n")) if descr else ""
    for key in sorted(conf):
        text += "%s: %s\n" % (key, conf[key])
    for key, value in raw:
        text += "%s: %s\n" % (key, value)
    ensure_dir(os.path.join(pve_dir(), "lxc"))
    write_atomic(conf_path(vmid), text)


def read_vmlist():
    path = os.path.join(pve_dir(), ".vmlist")
    if not os.path.exists(path):
        return {"version": 1, "ids": {}}
    return json.load(open(path))


def write_vmlist(vmlist):
    vmlist["version"] = vmlist.get("version", 0) + 1
    write_atomic(os.path.join(pve_dir(), ".vmlist"), json.dumps(vmlist, sort_keys=True))


def check_vmid_unused(vmid):
    if os.path.exists(conf_path(vmid)):
        raise PveError("CT %d already exists on node '%s'" % (vmid, node()))
    entry = read_vmlist()["ids"].get(str(vmid))
    if entry:
        raise PveError("%s %d already exists on node '%s'" % ("VM" if entry.get("type") == "qemu" else "CT", vmid,
                                                            entry.get("node", "?")))


# ---- storages and volumes --------------------------------------------------------------------

DEFAULT_STORAGE_CFG = """dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images
"""


def storages():
    path = os.path.join(pve_dir(), "storage.cfg")
    text = open(path).read() if os.path.exists(path) else DEFAULT_STORAGE_CFG
    result, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\S+):\s*(\S+)\s*$", line)
        if m:
            current = result.setdefault(m.group(2), {"type": m.group(1)})
            continue
        m = re.match(r"^\s+(\S+)(?:\s+(.*?))?\s*$", line)
        if m and current is not None:
            current[m.group(1)] = m.group(2) or ""
    return result


def storage(storage_id, content):
    s = storages().get(storage_id)
    if s is None:
        raise PveError("storage '%s' does not exist" % storage_id)
    if content not in s.get("content", "").split(","):
        what = {"rootdir": "container directories", "vztmpl": "container templates"}[content]
        raise PveError("storage '%s' does not support %s" % (storage_id, what))
    return s


def volume_dir(volid):
    storage_id, volname = volid.split(":", 1)
    return fake_dir("volumes", storage_id, volname.replace("/", "_"))


def new_volume_name(storage_id, vmid, n):
    kind = storages()[storage_id]["type"]
    if kind in ("dir", "nfs", "cifs", "glusterfs", "cephfs"):
        return "%d/vm-%d-disk-%d.raw" % (vmid, vmid, n)
    if kind in ("zfspool", "btrfs"):
        return "subvol-%d-disk-%d" % (vmid, n)
    return "vm-%d-disk-%d" % (vmid, n)


def format_size(gib_text):
    size = int(round(float(gib_text) * 1024 ** 3))
    for unit, factor in (("T", 1024 ** 4), ("G", 1024 ** 3), ("M", 1024 ** 2), ("K", 1024)):
        if size % factor == 0:
            return "%d%s" % (size // factor, unit)
    return str(size)


def template_path(ostemplate):
    if len(ostemplate) > 255:
        raise param_error("ostemplate", "value may only be 255 characters long")
    if ostemplate.startswith("/"):
        path = ostemplate
        if not os.path.isfile(path):
            raise PveError("can't find file '%s'" % path)
    else:
        m = re.fullmatch(r"(%s):vztmpl/([^/]+)" % STORAGE_ID, ostemplate)
        if not m:
            raise param_error("ostemplate", "unable to parse volume ID '%s'" % ostemplate)
        s = storage(m.group(1), "vztmpl")
        path = os.path.join(s.get("path", "/nonexistent"), "template", "cache", m.group(2))
        if not os.path.isfile(path):
            raise PveError("volume '%s' does not exist" % ostemplate)
    if not re.search(r"\.tar(\.(gz|xz|zst|bz2))?$", path):
        raise PveError("unable to detect archive compression of '%s'" % path)
    return path


def unpack_template(archive, target, unprivileged):
    # Proxmox unpacks with the CT's id map: as root on the host, then shifted.
    ensure_dir(target)
    r = subprocess.run(["tar", "-xpf", archive, "--numeric-owner", "--xattrs", "--xattrs-include=user.*",
                        "--xattrs-include=security.capability", "--exclude=./dev/*", "-C", target],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise PveError("unable to unpack '%s': %s" % (archive, r.stderr.strip()))
    if unprivileged:
        for root, dirs, files in os.walk(target):
            for name in ([root] if root == target else []) + [os.path.join(root, n) for n in dirs + files]:
                st = os.lstat(name)
                os.lchown(name, st.st_uid + 100000, st.st_gid + 100000)
                if not os.path.islink(name):
                    os.chmod(name, st.st_mode & 0o7777)  # chown clears setuid bits


# ---- running CTs (real LXC) ---------------------------------------------------------------------

def lxcpath():
    return fake_dir("lxc")


def lxc_info(vmid):
    """("RUNNING", pid) or ("STOPPED", 0)."""
    if not os.path.exists(os.path.join(lxcpath(), str(vmid), "config")):
        return "STOPPED", 0
    r = subprocess.run(["lxc-info", "-n", str(vmid), "-P", lxcpath(), "-s", "-p"], capture_output=True, text=True)
    fields = dict(line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)
    state, pid = fields.get("State", "").strip(), fields.get("PID", "").strip()
    if r.returncode != 0 or state != "RUNNING" or not pid.isdigit():
        return "STOPPED", 0
    return "RUNNING", int(pid)


def is_running(vmid):
    return lxc_info(vmid)[0] == "RUNNING"


def lxc_version():
    r = subprocess.run(["lxc-start", "--version"], capture_output=True, text=True)
    return tuple(int(p) for p in re.findall(r"\d+", r.stdout)[:3]) or (0,)


def cgroup_v2():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def lxc_config(vmid, conf, raw):
    """The LXC config Proxmox would generate (PVE::LXC::update_lxc_config), as far
    as this host can run it: no AppArmor profile, no bridge, cgroup keys only on v2."""
    unprivileged = conf.get("unprivileged") == "1"
    lines = []
    # LXC's common.conf and userns.conf, as Proxmox includes them, but not
    # common.conf.d (lxcfs hooks: lxcfs does not run here).
    for include in ["common.conf"] + (["userns.conf"] if unprivileged else []):
        path = "/usr/share/lxc/config/" + include
        if os.path.exists(path):
            for line in open(path):
                m = re.match(r"^\s*(lxc\.[a-z0-9_.\-]+)\s*=\s*(.*?)\s*$", line)
                if m and not (m.group(1) == "lxc.include" and m.group(2).endswith(".conf.d/")):
                    lines.append((m.group(1), m.group(2)))
    lines.append(("lxc.uts.name", conf.get("hostname", "CT%d" % vmid)))
    # The tree start_ct assembles: the rootfs volume with the mount points.
    lines.append(("lxc.rootfs.path", "dir:" + os.path.join(lxcpath(), str(vmid), "rootfs")))
    if unprivileged and not any(k == "lxc.idmap" for k, _ in raw):
        lines += [("lxc.idmap", "u 0 100000 65536"), ("lxc.idmap", "g 0 100000 65536")]
    lines.append(("lxc.init.cmd", conf.get("entrypoint", "/sbin/init")))
    lines += [("lxc.console.path", "none"), ("lxc.tty.max", "0")]
    v2 = cgroup_v2()
    if v2:
        memory = int(conf.get("memory", "512"))
        lines.append(("lxc.cgroup2.memory.max", str(memory * 1024 * 1024)))
        lines.append(("lxc.cgroup2.memory.swap.max", str(int(conf.get("swap", "512")) * 1024 * 1024)))
        if "cpulimit" in conf and float(conf["cpulimit"]) > 0:
            lines.append(("lxc.cgroup2.cpu.max", "%d 100000" % int(float(conf["cpulimit"]) * 100000)))
        if "cpuunits" in conf:
            lines.append(("lxc.cgroup2.cpu.weight", str(min(max(int(conf["cpuunits"]), 1), 10000))))
    for n in range(32):
        if "net%d" % n in conf:
            lines.append(("lxc.net.%d.type" % n, "empty"))  # no bridge here
    lxc6 = lxc_version() >= (6,)
    for key, value in raw:
        if key.startswith("lxc.cgroup2.") and not v2:
            continue
        if key == "lxc.environment.runtime" and not lxc6:
            key = "lxc.environment"  # LXC 5 has only this (Proxmox VE 9 ships LXC 6)
        lines.append((key, value))
    run = os.path.join(lxcpath(), str(vmid))
    lines += [("lxc.log.file", os.path.join(run, "lxc.log")), ("lxc.log.level", "WARN")]
    return "".join("%s = %s\n" % kv for kv in lines)


def mount(*args):
    r = subprocess.run(["mount"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise PveError("mount %s: %s" % (" ".join(args), r.stderr.strip()))


def assemble_rootfs(vmid, conf, target):
    """What Proxmox's pre-start hook does as root: the rootfs volume at
    `target` with every mount point mounted into it (sorted by path)."""
    rootfs = parse_property_string(conf["rootfs"], ROOTFS_KEYS, "volume")
    ensure_dir(target)
    mount("--bind", volume_dir(rootfs["volume"]), target)
    mps = [parse_property_string(conf["mp%d" % n], MP_KEYS, "volume") for n in range(256) if "mp%d" % n in conf]
    for mp in sorted(mps, key=lambda m: m["mp"]):
        source = mp["volume"] if mp["volume"].startswith("/") else volume_dir(mp["volume"])
        at = os.path.join(target, mp["mp"].lstrip("/"))
        if os.path.islink(at):
            raise PveError("mount point '%s' contains a symlink" % mp["mp"])
        os.makedirs(at, exist_ok=True)
        mount("--bind", source, at)
        flags = (["ro"] if mp.get("ro") == "1" else []) + (mp.get("mountoptions", "").split(";")
                                                          if mp.get("mountoptions") else [])
        if flags:
            mount("-o", ",".join(["remount", "bind"] + flags), at)
    if rootfs.get("ro") == "1":
        mount("-o", "remount,bind,ro", target)


def start_ct(vmid, conf, raw):
    for n in range(32):
        if "net%d" % n in conf:
            bridge = parse_property_string(conf["net%d" % n], NET_KEYS).get("bridge")
            bridges = os.environ.get("FAKE_PVE_BRIDGES", "vmbr0").split(",")
            if bridge and bridge not in bridges:
                raise PveError("bridge '%s' does not exist" % bridge)
    for n in range(256):
        if "mp%d" % n in conf:
            mp = parse_property_string(conf["mp%d" % n], MP_KEYS, "volume")
            if mp["volume"].startswith("/") and not os.path.isdir(mp["volume"]):
                raise PveError("mount point '%s' does not exist or is not a directory" % mp["volume"])
    run = os.path.join(lxcpath(), str(vmid))
    ensure_dir(lxcpath())
    ensure_dir(run)
    write_atomic(os.path.join(run, "config"), lxc_config(vmid, conf, raw), 0o644)
    if os.path.exists(os.path.join(run, "lxc.log")):
        os.unlink(os.path.join(run, "lxc.log"))
    # As systemd runs pve-container@<vmid>: not the caller's child, not its stdio.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            grandchild = os.fork()
            if grandchild != 0:
                os.write(write_end, str(grandchild).encode())
                os._exit(0)
            console = os.open(os.path.join(run, "console.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(console, 1)
            os.dup2(console, 2)
            os.closerange(3, 65536)
            # A mount namespace of its own, gone with lxc-start, holds the tree.
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
                raise OSError(ctypes.get_errno(), "unshare")
            mount("--make-rprivate", "/")
            assemble_rootfs(vmid, conf, os.path.join(run, "rootfs"))
            # A Proxmox host gives root 100000:65536 in /etc/subuid; this one
            # need not. LXC insists on newuidmap only when it finds it in PATH.
            env = dict(os.environ, PATH="/nonexistent")
            os.execve(shutil.which("lxc-start"), ["lxc-start", "-F", "-n", str(vmid), "-P", lxcpath()], env)
        except BaseException as e:  # noqa: B902 - reported through the console log
            os.write(2, ("fake pct: start: %s\n" % getattr(e, "message", e)).encode())
        finally:
            os._exit(127)
    os.close(write_end)
    monitor = int(os.read(read_end, 32) or b"0")
    os.close(read_end)
    os.waitpid(pid, 0)
    for _ in range(500):
        if is_running(vmid):
            return
        if not alive(monitor):
            break
        time.sleep(0.02)
    # LXC's first error is the cause; lxc-start's own go to the console log.
    errors = []
    for name in ("lxc.log", "console.log"):
        path = os.path.join(run, name)
        if os.path.exists(path):
            errors += [l for l in open(path).read().splitlines() if "ERROR" in l or name == "console.log"]
    raise PveError("startup for container '%d' failed%s" % (vmid, (": " + errors[0]) if errors else ""))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_ct(vmid, timeout=None):
    args = ["lxc-stop", "-n", str(vmid), "-P", lxcpath()]
    args += ["-t", str(timeout)] if timeout is not None else ["-k"]
    subprocess.run(args, capture_output=True)
    for _ in range(500):
        if not is_running(vmid):
            return True
        time.sleep(0.02)
    return False


# ---- pct commands ---------------------------------------------------------------------------------

def existing(vmid):
    conf, raw, descr = read_conf(vmid)
    if conf.get("lock"):
        raise PveError("CT is locked (%s)" % conf["lock"])
    return conf, raw, descr


def cmd_create(argv):
    options = dict(CONFIG_OPTIONS, **CREATE_OPTIONS)
    (vmid_text, ostemplate), opts, _ = parse_cli(argv, options, ["vmid", "ostemplate"], BOOLEAN_OPTIONS)
    vmid = vmid_value(vmid_text)
    for key in ("password", "ssh-public-keys", "restore", "unique", "pool", "ha-managed", "bwlimit", "force"):
        if key in opts:
            raise PveError("fake pct: --%s is not emulated" % key)
    with Lock():
        if str(vmid) in os.environ.get("FAKE_PCT_TAKEN_ON_OTHER_NODE", "").split(","):
            vmlist = read_vmlist()
            if str(vmid) not in vmlist["ids"]:
                vmlist["ids"][str(vmid)] = {"node": "pve2", "type": "lxc", "version": 1}
                write_vmlist(vmlist)
        check_vmid_unused(vmid)
        archive = template_path(ostemplate)
        has_mp = any(re.fullmatch(r"mp\d+", k) for k in opts)
        if "rootfs" not in opts:
            if has_mp:
                raise PveError("mount points configured, but 'rootfs' not set - aborting")
            opts["rootfs"] = "%s:4" % opts.get("storage", "local")
        conf = {k: v for k, v in opts.items() if k in CONFIG_OPTIONS and k != "description"}
        conf.setdefault("unprivileged", "1")
        conf.setdefault("arch", "amd64")
        conf["lock"] = "create"
        write_conf(vmid, conf, [], opts.get("description", ""))
        vmlist = read_vmlist()
        vmlist["ids"][str(vmid)] = {"node": node(), "type": "lxc", "version": 1}
        write_vmlist(vmlist)
    made = []
    try:
        disk = 0
        for key in ["rootfs"] + sorted((k for k in conf if re.fullmatch(r"mp\d+", k)), key=lambda k: int(k[2:])):
            keys = ROOTFS_KEYS if key == "rootfs" else MP_KEYS
            props = parse_property_string(conf[key], keys, "volume")
            m = re.fullmatch(r"(%s):(\d+(\.\d+)?)" % STORAGE_ID, props["volume"])
            if m:
                storage(m.group(1), "rootdir")
                volid = "%s:%s" % (m.group(1), new_volume_name(m.group(1), vmid, disk))
                disk += 1
                ensure_dir(volume_dir(volid))
                made.append(volume_dir(volid))
                props["volume"], props["size"] = volid, format_size(m.group(2))
            elif not props["volume"].startswith("/"):
                if not os.path.isdir(volume_dir(props["volume"])):
                    raise PveError("volume '%s' does not exist" % props["volume"])
            conf[key] = print_property_string(props, "volume")
        for key in [k for k in conf if re.fullmatch(r"net\d+", k)]:
            props = parse_property_string(conf[key], NET_KEYS)
            props.setdefault("type", "veth")
            # Proxmox picks a random MAC with its prefix; the double derives it from the VMID.
            props.setdefault("hwaddr", "BC:24:11:%02X:%02X:%02X" % ((vmid >> 16) & 0xff, (vmid >> 8) & 0xff,
                                                                     (vmid + int(key[3:])) & 0xff))
            conf[key] = print_property_string(props, first=("name",))
        rootfs = parse_property_string(conf["rootfs"], ROOTFS_KEYS, "volume")
        unpack_template(archive, volume_dir(rootfs["volume"]), conf["unprivileged"] == "1")
        del conf["lock"]
        with Lock():
            write_conf(vmid, conf, [], opts.get("description", ""))
        if opts.get("start") == "1":
            start_ct(vmid, conf, [])
    except PveError as e:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
        with Lock():
            if os.path.exists(conf_path(vmid)):
                os.unlink(conf_path(vmid))
            vmlist = read_vmlist()
            vmlist["ids"].pop(str(vmid), None)
            write_vmlist(vmlist)
        raise PveError("unable to create CT %d - %s" % (vmid, e.message))
    return 0


def cmd_start(argv):
    (vmid_text,), _, _ = parse_cli(argv, {"skiplock": boolean, "debug": boolean}, ["vmid"], {"skiplock", "debug"})
    vmid = vmid_value(vmid_text)
    conf, raw, _ = existing(vmid)
    if is_running(vmid):
        raise PveError("CT %d already running" % vmid)
    start_ct(vmid, conf, raw)
    return 0


def cmd_stop(argv):
    (vmid_text,), _, _ = parse_cli(argv, {"skiplock": boolean}, ["vmid"], {"skiplock"})
    vmid = vmid_value(vmid_text)
    existing(vmid)
    if not is_running(vmid):
        raise PveError("CT %d not running" % vmid)
    if not stop_ct(vmid):
        raise PveError("unable to stop CT %d" % vmid)
    return 0


def cmd_shutdown(argv):
    (vmid_text,), opts, _ = parse_cli(argv, {"timeout": integer(0), "forceStop": boolean}, ["vmid"], {"forceStop"})
    vmid = vmid_value(vmid_text)
    existing(vmid)
    if not is_running(vmid):
        raise PveError("CT %d not running" % vmid)
    if not stop_ct(vmid, int(opts.get("timeout", "60"))):
        if opts.get("forceStop") == "1" and stop_ct(vmid):
            return 0
        raise PveError("shutdown CT %d failed - timeout" % vmid)
    return 0


def cmd_destroy(argv):
    (vmid_text,), opts, _ = parse_cli(argv, {"force": boolean, "purge": boolean, "destroy-unreferenced-disks": boolean},
                                      ["vmid"], {"force", "purge", "destroy-unreferenced-disks"})
    vmid = vmid_value(vmid_text)
    conf, _, _ = existing(vmid)
    if conf.get("protection") == "1":
        raise PveError("can't remove CT %d - protection mode enabled" % vmid)
    if is_running(vmid):
        if opts.get("force") != "1":
            raise PveError("unable to destroy CT %d - container is running" % vmid)
        stop_ct(vmid)
    for key, value in conf.items():
        if key == "rootfs" or re.fullmatch(r"mp\d+", key):
            volid = parse_property_string(value, MP_KEYS if key != "rootfs" else ROOTFS_KEYS, "volume")["volume"]
            if not volid.startswith("/"):
                shutil.rmtree(volume_dir(volid), ignore_errors=True)
    shutil.rmtree(os.path.join(lxcpath(), str(vmid)), ignore_errors=True)
    with Lock():
        os.unlink(conf_path(vmid))
        vmlist = read_vmlist()
        vmlist["ids"].pop(str(vmid), None)
        write_vmlist(vmlist)
    return 0


def cmd_status(argv):
    (vmid_text,), opts, _ = parse_cli(argv, {"verbose": boolean}, ["vmid"], {"verbose"})
    vmid = vmid_value(vmid_text)
    conf, _, _ = read_conf(vmid)
    state, pid = lxc_info(vmid)
    status = "running" if state == "RUNNING" else "stopped"
    if opts.get("verbose") != "1":
        print("status: %s" % status)
        return 0
    info = {"cpus": conf.get("cores", str(os.cpu_count())), "ha": "{managed => 0}", "lock": conf.get("lock"),
            "maxmem": str(int(conf.get("memory", "512")) * 1024 * 1024),
            "maxswap": str(int(conf.get("swap", "512")) * 1024 * 1024),
            "name": conf.get("hostname", "CT%d" % vmid), "status": status, "type": "lxc", "vmid": str(vmid)}
    if pid:
        info["pid"] = str(pid)
    for key in sorted(info):
        if info[key] is not None:
            print("%s: %s" % (key, info[key]))
    return 0


def cmd_list(argv):
    parse_cli(argv, {}, [])
    rows = []
    lxc_dir = os.path.join(pve_dir(), "lxc")
    for name in os.listdir(lxc_dir) if os.path.isdir(lxc_dir) else []:
        m = re.fullmatch(r"(\d+)\.conf", name)
        if m:
            vmid = int(m.group(1))
            conf, _, _ = read_conf(vmid)
            rows.append((vmid, "running" if is_running(vmid) else "stopped", conf.get("lock", ""),
                         conf.get("hostname", "CT%d" % vmid)))
    if rows:
        print("%-10s %-10s %-12s %-20s" % ("VMID", "Status", "Lock", "Name"))
        for row in sorted(rows):
            print("%-10s %-10s %-12s %-20s" % row)
    return 0


def cmd_config(argv):
    (vmid_text,), _, _ = parse_cli(argv, {"current": boolean}, ["vmid"], {"current"})
    vmid = vmid_value(vmid_text)
    conf, raw, descr = read_conf(vmid)
    if descr:
        print("description: %s" % descr.replace("\n", "\ndescription: "))
    for key in sorted(conf):
        print("%s: %s" % (key, conf[key]))
    for key, value in raw:
        print("%s: %s" % (key, value))
    return 0


def delete_list(value):
    for key in value.split(","):
        if key not in CONFIG_OPTIONS:
            raise Invalid("invalid format - unknown option '%s'" % key)
    return value


def cmd_set(argv):
    options = dict(CONFIG_OPTIONS, delete=delete_list, digest=string(), revert=string())
    (vmid_text,), opts, _ = parse_cli(argv, options, ["vmid"], BOOLEAN_OPTIONS)
    vmid = vmid_value(vmid_text)
    if "unprivileged" in opts:
        raise param_error("unprivileged", "unable to modify read-only option: 'unprivileged'")
    if "revert" in opts or "digest" in opts:
        raise PveError("fake pct: --revert and --digest are not emulated")
    with Lock():
        conf, raw, descr = existing(vmid)
        for key in opts.get("delete", "").split(",") if opts.get("delete") else []:
            conf.pop(key, None)
            if key == "description":
                descr = ""
        for key, value in opts.items():
            if key == "description":
                descr = value
            elif key != "delete":
                conf[key] = value
        if any(re.fullmatch(r"mp\d+", k) for k in conf) and "rootfs" not in conf:
            raise PveError("mount points configured, but 'rootfs' not set - aborting")
        write_conf(vmid, conf, raw, descr)
    return 0


def cmd_exec(argv):
    (vmid_text,), opts, command = parse_cli(argv, {"keep-env": boolean}, ["vmid"], {"keep-env"}, allow_command=True)
    vmid = vmid_value(vmid_text)
    read_conf(vmid)
    if not command:
        raise PveError("missing command")
    if not is_running(vmid):
        raise PveError("CT %d not running" % vmid)
    env = ["--keep-env"] if opts.get("keep-env", "1") == "1" else ["--clear-env"]
    sys.stdout.flush()
    return subprocess.call(["lxc-attach", "-n", str(vmid), "-P", lxcpath()] + env + ["--"] + command)


PCT_COMMANDS = {"create": cmd_create, "start": cmd_start, "stop": cmd_stop, "shutdown": cmd_shutdown,
                "destroy": cmd_destroy, "status": cmd_status, "list": cmd_list, "config": cmd_config,
                "set": cmd_set, "exec": cmd_exec}


# ---- pvesh ----------------------------------------------------------------------------------------

def next_id_range():
    lower, upper = 100, 1000000
    path = os.path.join(pve_dir(), "datacenter.cfg")
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r"^next-id:\s*(.*?)\s*$", line)
            if m:
                props = dict(p.split("=", 1) for p in m.group(1).split(","))
                lower, upper = int(props.get("lower", lower)), int(props.get("upper", upper))
    return lower, upper


def pvesh_nextid(argv):
    _, opts, _ = parse_cli(argv, {"vmid": string(pattern=VMID, what="VM ID"),
                                  "output-format": enum("json", "json-pretty", "text", "yaml")}, [])
    used = set(int(k) for k in read_vmlist()["ids"])
    if "vmid" in opts:
        if int(opts["vmid"]) in used:
            raise param_error("vmid", "VM %s already exists" % opts["vmid"])
        found = int(opts["vmid"])
    else:
        lower, upper = next_id_range()
        found = next((v for v in range(lower, upper) if v not in used), None)
        if found is None:
            raise PveError("unable to get any free VMID in range [%d, %d]" % (lower, upper - 1))
    print(json.dumps(found) if opts.get("output-format", "text").startswith("json") else found)
    return 0


# ---- entry points -----------------------------------------------------------------------------------

class Capture:
    """Keeps what goes to stderr, for the call log."""

    def __init__(self, stream):
        self.stream, self.text = stream, ""

    def write(self, s):
        self.text += s
        return self.stream.write(s)

    def flush(self):
        self.stream.flush()


def run(prog, argv, dispatch):
    err = Capture(sys.stderr)
    sys.stderr = err
    code = 255
    try:
        code = dispatch(argv)
    except PveError as e:
        sys.stderr.write(e.message.rstrip("\n") + "\n")
        code = 255
    finally:
        sys.stdout.flush()
        sys.stderr = err.stream
        try:
            log_call(prog, argv, code, err.text)
        except Exception as e:  # the call itself is done; say why it was not logged
            sys.stderr.write("fake pve: cannot log the call: %s\n" % e)
    return code


def main_pct(argv):
    def dispatch(args):
        if not args or args[0] not in PCT_COMMANDS:
            raise PveError("ERROR: unknown command 'pct %s'" % (args[0] if args else ""))
        if injected_failure(args[0]):
            raise PveError(os.environ.get("FAKE_PCT_FAIL_MESSAGE", "fake pct: injected failure of 'pct %s'" % args[0]))
        return PCT_COMMANDS[args[0]](args[1:])
    return run("pct", argv, dispatch)


def main_pvesh(argv):
    def dispatch(args):
        if len(args) < 2 or args[0] != "get":
            raise PveError("fake pvesh: only 'pvesh get /cluster/nextid' is emulated")
        if args[1] != "/cluster/nextid":
            raise PveError("no such resource '%s'" % args[1])
        if injected_failure("nextid"):
            raise PveError(os.environ.get("FAKE_PCT_FAIL_MESSAGE", "fake pvesh: injected failure of 'nextid'"))
        return pvesh_nextid(args[2:])
    return run("pvesh", argv, dispatch)
