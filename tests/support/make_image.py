#!/usr/bin/env python3
"""Builds OCI images for the tests from a JSON description, byte by byte,
so that a test can put into a layer what no build tool would (whiteouts,
hard links to files of lower layers, device nodes, xattrs, hostile paths).

  make_image.py layout SPEC DIR            an OCI image layout (tagged SPEC.tag)
  make_image.py docker-archive SPEC FILE   `docker save` format

SPEC: {"tag": "v1", "os": "linux", "architecture": "amd64",
       "platforms": [["linux", "arm64", "v8"], ...]   (optional: an index, one manifest each)
       "config": {"Entrypoint": [...], "Cmd": [...], "Env": [...], "User": "...", ...},
       "layers": [{"compression": "gzip|zstd|none", "entries": [ENTRY, ...]}, ...]}
ENTRY: {"path": "etc/passwd", "type": "file|dir|symlink|hardlink|char|block|fifo|tree",
        "content": "...", "source": "/host/file or dir (tree)", "target": "...",
        "mode": 420, "uid": 0, "gid": 0, "major": 1, "minor": 3, "xattrs": {"user.k": "v"}}
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MTIME = 1700000000


def entry_info(e):
    kind = e.get("type", "file")
    info = tarfile.TarInfo(e["path"])
    info.mtime = e.get("mtime", MTIME)
    info.uid = e.get("uid", 0)
    info.gid = e.get("gid", 0)
    info.uname = info.gname = ""
    data = None
    if kind == "file":
        info.type = tarfile.REGTYPE
        if "source" in e:
            with open(e["source"], "rb") as f:
                data = f.read()
        else:
            data = e.get("content", "").encode()
        info.size = len(data)
        info.mode = e.get("mode", 0o644)
    elif kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = e.get("mode", 0o755)
    elif kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = e["target"]
        info.mode = 0o777
    elif kind == "hardlink":
        info.type = tarfile.LNKTYPE
        info.linkname = e["target"]
        info.mode = e.get("mode", 0o644)
    elif kind in ("char", "block"):
        info.type = tarfile.CHRTYPE if kind == "char" else tarfile.BLKTYPE
        info.devmajor = e.get("major", 0)
        info.devminor = e.get("minor", 0)
        info.mode = e.get("mode", 0o666)
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE
        info.mode = e.get("mode", 0o644)
    else:
        raise SystemExit("unknown entry type " + kind)
    if e.get("xattrs"):
        info.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
    return info, data


def layer_tar(layer):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in layer["entries"]:
            if e.get("type") == "tree":
                # A host directory as it is (numeric owners, as in an image).
                def numeric(info):
                    info.uname = info.gname = ""
                    return info
                tar.add(e["source"], arcname=e["path"], filter=numeric)
                continue
            info, data = entry_info(e)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        blob = subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
        return blob, "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Blobs:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def put(self, data):
        digest = sha(data)
        with open(os.path.join(self.root, "blobs", "sha256", digest[7:]), "wb") as f:
            f.write(data)
        return digest


def descriptor(media_type, data, digest):
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def image_config(spec, os_name, arch, variant, diff_ids):
    config = {"created": "2023-11-14T22:13:20Z", "os": os_name, "architecture": arch,
              "config": spec.get("config", {}), "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": "make_image.py"}]}
    if variant:
        config["variant"] = variant
    return json.dumps(config, sort_keys=True).encode()


def build_layout(spec, root):
    blobs = Blobs(root)
    layers, diff_ids = [], []
    for layer in spec["layers"]:
        tar = layer_tar(layer)
        diff_ids.append(sha(tar))
        blob, media_type = compress(tar, layer.get("compression", "gzip"))
        layers.append(descriptor(media_type, blob, blobs.put(blob)))
    platforms = spec.get("platforms") or [[spec.get("os", "linux"), spec.get("architecture", "amd64"),
                                           spec.get("variant", "")]]
    manifests = []
    for p in platforms:
        os_name, arch, variant = p[0], p[1], (p[2] if len(p) > 2 else "")
        config = image_config(spec, os_name, arch, variant, diff_ids)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": descriptor("application/vnd.oci.image.config.v1+json", config,
                                                    blobs.put(config)),
                               "layers": layers}, sort_keys=True).encode()
        d = descriptor("application/vnd.oci.image.manifest.v1+json", manifest, blobs.put(manifest))
        d["platform"] = {"os": os_name, "architecture": arch}
        if variant:
            d["platform"]["variant"] = variant
        manifests.append(d)
    if spec.get("platforms"):
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": manifests}).encode()
        top = descriptor("application/vnd.oci.image.index.v1+json", index, blobs.put(index))
    else:
        top = manifests[0]
        del top["platform"]
    top["annotations"] = {"org.opencontainers.image.ref.name": spec.get("tag", "latest")}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def build_docker_archive(spec, path):
    members = {}
    layer_paths, diff_ids = [], []
    for layer in spec["layers"]:
        tar = layer_tar(layer)
        digest = sha(tar)
        diff_ids.append(digest)
        name = digest[7:] + "/layer.tar"
        members[name] = tar
        layer_paths.append(name)
    config = image_config(spec, spec.get("os", "linux"), spec.get("architecture", "amd64"), "", diff_ids)
    config_name = sha(config)[7:] + ".json"
    members[config_name] = config
    members["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": [spec.get("tag", "test:latest")],
                                            "Layers": layer_paths}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("layout", "docker-archive"):
        raise SystemExit(__doc__)
    with open(sys.argv[2]) as f:
        spec = json.load(f)
    if sys.argv[1] == "layout":
        build_layout(spec, sys.argv[3])
    else:
        build_docker_archive(spec, sys.argv[3])


if __name__ == "__main__":
    main()
