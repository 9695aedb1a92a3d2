#define BOOST_TEST_MODULE image_root
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/sha256.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

// Images from real components: umoci (Debian's) unpacks the same image to
// the same tree; runc and the lxc backend run the bundle; a docker-registry
// on 127.0.0.1 with TLS from a test CA (and one with basic auth as well)
// serves images that skopeo pushed and `pull` fetches. Needs root and the
// packages umoci, skopeo, docker-registry, apache2-utils, openssl, runc,
// lxc and busybox-static.

namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::read_text;
using lxcri::test::run;
using lxcri::test::RunResult;
using lxcri::test::TempDir;
using lxcri::test::write_text;

namespace {

void require_tools() {
    BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "this test needs root (ctest -LE root skips it)");
    for (const char* tool : {"umoci", "skopeo", "docker-registry", "htpasswd", "openssl", "runc"})
        BOOST_REQUIRE_MESSAGE(run({"sh", "-c", std::string("command -v ") + tool}).exit_code == 0,
                              tool << " missing (scripts/deps.sh installs the test packages)");
}

struct Subreaper {
    Subreaper() { lxcri::test::become_subreaper(); }
};

// A busybox image with what the issue lists: several layers, a whiteout,
// an opaque directory, a hard link to a lower layer's file, symlinks, a
// device node, xattrs, owners, a user name, Entrypoint + Cmd, Env, WorkingDir.
json::object busybox_spec() {
    json::object spec = json::parse(R"({
      "tag": "v1",
      "config": {"Entrypoint": ["/bin/sh", "-c"],
                 "Cmd": ["echo \"hello $GREETING from $(pwd) as $(id -u):$(id -g)\""],
                 "Env": ["GREETING=world", "PATH=/bin"], "WorkingDir": "/srv", "User": "app"},
      "layers": [
        {"compression": "gzip", "entries": [
          {"path": "bin", "type": "dir"},
          {"path": "etc/passwd", "type": "file", "content": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n"},
          {"path": "etc/group", "type": "file", "content": "root:x:0:\napp:x:1000:\n"},
          {"path": "srv", "type": "dir", "uid": 1000, "gid": 1000, "mode": 488},
          {"path": "proc", "type": "dir"}, {"path": "sys", "type": "dir"}, {"path": "dev", "type": "dir"},
          {"path": "tmp", "type": "dir", "mode": 1023},
          {"path": "old/gone", "type": "file", "content": "x"},
          {"path": "opq/a", "type": "file", "content": "a"},
          {"path": "data/file", "type": "file", "content": "shared", "uid": 7, "gid": 8, "mode": 1472,
           "xattrs": {"user.tag": "one", "trusted.t": "two"}}]},
        {"compression": "none", "entries": [
          {"path": "old/.wh.gone", "type": "file"},
          {"path": "opq/.wh..wh..opq", "type": "file"},
          {"path": "opq/b", "type": "file", "content": "b"},
          {"path": "data/link", "type": "hardlink", "target": "data/file"},
          {"path": "data/null", "type": "char", "major": 1, "minor": 3},
          {"path": "data/fifo", "type": "fifo"},
          {"path": "data/abs", "type": "symlink", "target": "/etc/passwd"}]},
        {"compression": "gzip", "entries": [
          {"path": "srv/hello.txt", "type": "file", "content": "hi", "uid": 1000, "gid": 1000, "mode": 384}]}
      ]})").as_object();
    json::array& first = spec["layers"].as_array()[0].as_object()["entries"].as_array();
    first.push_back(json::object{{"path", "bin/busybox"}, {"type", "file"}, {"source", "/bin/busybox"}, {"mode", 0755}});
    for (const char* applet : {"sh", "echo", "id", "pwd", "cat", "ls"})
        first.push_back(json::object{{"path", std::string("bin/") + applet}, {"type", "symlink"}, {"target", "busybox"}});
    return spec;
}

struct Images {
    TempDir tmp;
    fs::path state = tmp / "state";

    Images() { require_tools(); }

    fs::path build(const json::object& spec, const std::string& name) {
        lxcri::test::make_image(json::serialize(spec), "layout", tmp / name);
        return tmp / name;
    }

    RunResult lxcri(std::vector<std::string> args) const {
        args.insert(args.begin(), {LXCRI_BINARY, "--state-dir", state.string()});
        return run(args);
    }

    fs::path bundle(const std::string& reference, const std::string& name) {
        auto r = lxcri({"bundle", "create", (tmp / name).string(), "--image", reference, "-q"});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "bundle create --image " << reference << ": " << r.err);
        return tmp / name;
    }
};

// Everything the issue compares, per path: type, mode, owner, size,
// content hash, link target, xattrs, mtime of non-directories, and which
// paths share an inode.
std::map<std::string, std::string> describe_tree(const fs::path& root) {
    std::map<std::string, std::string> tree;
    std::map<std::pair<dev_t, ino_t>, std::string> first_name;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path path = it->path();
        const std::string rel = path.lexically_relative(root).string();
        struct stat st {};
        BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
        std::ostringstream d;
        d << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
        if (S_ISREG(st.st_mode)) d << " size " << st.st_size << " sha256 " << lxcri::sha256_hex(read_text(path));
        if (S_ISLNK(st.st_mode)) d << " -> " << fs::read_symlink(path).string();
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) d << " dev " << major(st.st_rdev) << "," << minor(st.st_rdev);
        if (!S_ISDIR(st.st_mode)) d << " mtime " << st.st_mtim.tv_sec;
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            auto [pos, inserted] = first_name.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
            d << " inode-of " << pos->second;
        }
        char names[4096];
        ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
        std::vector<std::string> keys;
        for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) keys.emplace_back(names + i);
        std::sort(keys.begin(), keys.end());
        for (const auto& key : keys) {
            char value[4096];
            ssize_t v = ::lgetxattr(path.c_str(), key.c_str(), value, sizeof value);
            d << " xattr " << key << "=" << std::string(value, static_cast<size_t>(std::max<ssize_t>(v, 0)));
        }
        tree[rel] = d.str();
    }
    return tree;
}

// A docker-registry on 127.0.0.1 with TLS (certificate from `ca`), and
// basic auth when `htpasswd` is given; stopped by the destructor.
class Registry {
public:
    Registry(const fs::path& dir, const fs::path& cert, const fs::path& key, const fs::path* htpasswd) : dir_(dir) {
        port_ = free_port();
        fs::create_directories(dir / "storage");
        std::string config = "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " +
                             (dir / "storage").string() + "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) +
                             "\n  tls:\n    certificate: " + cert.string() + "\n    key: " + key.string() + "\n";
        if (htpasswd) config += "auth:\n  htpasswd:\n    realm: lxcri-test\n    path: " + htpasswd->string() + "\n";
        write_text(dir / "config.yml", config);
        std::cout.flush();
        std::fflush(nullptr);  // the child must not write our buffers again
        pid_ = ::fork();
        if (pid_ == 0) {
            ::freopen((dir / "registry.log").c_str(), "w", stderr);
            ::freopen("/dev/null", "w", stdout);
            ::execlp("docker-registry", "docker-registry", "serve", (dir / "config.yml").c_str(), nullptr);
            _exit(127);
        }
        for (int i = 0; i < 200 && !listening(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        BOOST_REQUIRE_MESSAGE(listening(), "docker-registry did not start: " << read_text(dir / "registry.log"));
    }
    ~Registry() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    fs::path storage() const { return dir_ / "storage"; }

private:
    static int free_port() {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t length = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
        ::close(fd);
        return ntohs(addr.sin_port);
    }
    bool listening() const {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        return ok;
    }

    fs::path dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// A test CA and a certificate for 127.0.0.1 signed by it.
struct TestCa {
    fs::path dir;
    fs::path certs;  // for --cert-dir: only ca.crt
    explicit TestCa(const fs::path& base) : dir(base / "ca"), certs(base / "certs.d") {
        fs::create_directories(dir);
        fs::create_directories(certs);
        auto openssl = [&](std::vector<std::string> args) {
            args.insert(args.begin(), "openssl");
            auto r = run(args);
            BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "openssl: " << r.err);
        };
        const std::string d = dir.string();
        openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=lxcri test CA",
                 "-keyout", d + "/ca.key", "-out", d + "/ca.crt"});
        openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", d + "/server.key",
                 "-out", d + "/server.csr"});
        write_text(dir / "ext.cnf", "subjectAltName=IP:127.0.0.1\n");
        openssl({"x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", d + "/ext.cnf", "-out", d + "/server.crt"});
        fs::copy_file(dir / "ca.crt", certs / "ca.crt");
    }
};

}  // namespace

BOOST_GLOBAL_FIXTURE(Subreaper);

BOOST_FIXTURE_TEST_CASE(umoci_unpacks_the_same_tree, Images) {
    json::object spec = busybox_spec();
    fs::path layout = build(spec, "image");
    auto u = run({"umoci", "unpack", "--image", layout.string() + ":v1", (tmp / "umoci").string()});
    BOOST_REQUIRE_MESSAGE(u.exit_code == 0, "umoci unpack: " << u.err);
    fs::path ours = bundle("oci:" + layout.string() + ":v1", "ours");
    auto expected = describe_tree(tmp / "umoci/rootfs");
    auto got = describe_tree(ours / "rootfs");
    BOOST_TEST(expected.size() == got.size());
    for (const auto& [path, description] : expected) {
        BOOST_TEST_CONTEXT(path) {
            BOOST_TEST(got.count(path) == 1u);
            if (got.count(path)) BOOST_TEST(got[path] == description);
        }
    }
    BOOST_TEST(got.at("data/file").find("xattr trusted.t=two") != std::string::npos);
    BOOST_TEST(got.count("old/gone") == 0u);
    BOOST_TEST(got.count("opq/a") == 0u);
    BOOST_TEST(lxcri({"bundle", "validate", ours.string()}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(runc_runs_what_the_image_says, Images) {
    fs::path b = bundle("oci:" + build(busybox_spec(), "image").string() + ":v1", "b");
    auto r = run({"runc", "--root", (tmp / "runc").string(), "run", "--bundle", b.string(),
                  "lxcri-image-" + std::to_string(::getpid())});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.out == "hello world from /srv as 1000:1000\n");
}

BOOST_FIXTURE_TEST_CASE(the_lxc_backend_runs_what_the_image_says, Images) {
    ::chmod(tmp.path().c_str(), 0755);
    fs::path b = bundle("oci:" + build(busybox_spec(), "image").string() + ":v1", "b");
    fs::create_directories(tmp / "lxc");
    write_text(tmp / "config", "backend = lxc\n[lxc]\nlxcpath = " + (tmp / "lxc").string() + "\n");
    lxcri::test::RunOptions options;
    options.env.emplace("PROXMOX_LXCRI_CONFIG", (tmp / "config").string());
    options.stdout_file = tmp / "out";
    options.stderr_file = tmp / "err";
    const std::string id = "lxcri-image-" + std::to_string(::getpid());
    auto r = run({LXCRI_BINARY, "--root", (tmp / "run").string(), "--state-dir", state.string(), "run", "--bundle",
                  b.string(), id},
                 options);
    BOOST_TEST(r.exit_code == 0, read_text(tmp / "err"));
    BOOST_TEST(read_text(tmp / "out") == "hello world from /srv as 1000:1000\n");
}

BOOST_FIXTURE_TEST_CASE(pull_from_registries_with_tls_and_basic_auth, Images) {
    fs::path layout = build(busybox_spec(), "image");
    TestCa ca(tmp.path());
    auto h = run({"htpasswd", "-Bbc", (tmp / "htpasswd").string(), "tester", "s3cret"});
    BOOST_REQUIRE_MESSAGE(h.exit_code == 0, h.err);
    const fs::path htpasswd = tmp / "htpasswd";
    Registry open_registry(tmp / "registry", ca.dir / "server.crt", ca.dir / "server.key", nullptr);
    Registry auth_registry(tmp / "registry-auth", ca.dir / "server.crt", ca.dir / "server.key", &htpasswd);

    auto push = [&](const Registry& registry, std::vector<std::string> extra) {
        std::vector<std::string> argv{"skopeo", "copy", "--quiet", "--dest-cert-dir", ca.certs.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), {"oci:" + layout.string() + ":v1", "docker://" + registry.host() + "/test/busybox:v1"});
        auto r = run(argv);
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "skopeo push: " << r.err);
    };
    push(open_registry, {});
    push(auth_registry, {"--dest-creds", "tester:s3cret"});
    const std::string open_ref = "docker://" + open_registry.host() + "/test/busybox:v1";
    const std::string auth_ref = "docker://" + auth_registry.host() + "/test/busybox:v1";

    // TLS is verified unless told otherwise: without the CA the pull fails.
    auto r = lxcri({"pull", open_ref});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(r.err.find("certificate") != std::string::npos, r.err);

    // By tag, then by the digest it reported.
    r = lxcri({"pull", "--cert-dir", ca.certs.string(), open_ref});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::istringstream words(r.out);
    std::string pulled_ref, digest;
    words >> pulled_ref >> digest;
    BOOST_TEST(pulled_ref == open_ref);
    BOOST_TEST(digest.starts_with("sha256:"));
    const std::string by_digest = "docker://" + open_registry.host() + "/test/busybox@" + digest;
    r = lxcri({"pull", "--cert-dir", ca.certs.string(), by_digest});
    BOOST_TEST(r.exit_code == 0, r.err);

    // A digest the registry does not have.
    r = lxcri({"pull", "--cert-dir", ca.certs.string(),
               "docker://" + open_registry.host() + "/test/busybox@sha256:" + std::string(64, '0')});
    BOOST_TEST(r.exit_code != 0);

    // Basic auth: refused without credentials, accepted with an auth file.
    r = lxcri({"pull", "--cert-dir", ca.certs.string(), auth_ref});
    BOOST_TEST(r.exit_code != 0);
    write_text(tmp / "auth.json", "{\"auths\": {\"" + auth_registry.host() + "\": {\"auth\": \"dGVzdGVyOnMzY3JldA==\"}}}");
    r = lxcri({"pull", "--cert-dir", ca.certs.string(), "--authfile", (tmp / "auth.json").string(), auth_ref});
    BOOST_TEST(r.exit_code == 0, r.err);

    // bundle create uses the cached copies; runc runs them.
    int n = 0;
    for (const auto& ref : {open_ref, by_digest, auth_ref}) {
        fs::path b = bundle(ref, "pulled-" + std::to_string(++n));
        auto config = lxcri::read_json_file(b / "config.json");
        BOOST_TEST(config.at("annotations").at("org.proxmox-lxcri.image.reference").as_string() == ref);
        BOOST_TEST(config.at("annotations").at("org.proxmox-lxcri.image.digest").as_string() == digest);
        auto ran = run({"runc", "--root", (tmp / "runc").string(), "run", "--bundle", b.string(),
                        "lxcri-pull-" + std::to_string(::getpid())});
        BOOST_TEST(ran.out == "hello world from /srv as 1000:1000\n", ran.err);
    }
    auto list = lxcri({"cache", "list"});
    BOOST_TEST(list.out.find(open_ref) != std::string::npos, list.out);
    BOOST_TEST(list.out.find(auth_ref) != std::string::npos);

    // A blob tampered with in the registry's storage is refused.
    json::value manifest = lxcri::read_json_file(layout / "blobs/sha256" /
        std::string(lxcri::read_json_file(layout / "index.json").at("manifests").at(0).at("digest").as_string()).substr(7));
    const std::string layer(manifest.at("layers").at(2).at("digest").as_string());
    fs::path data = open_registry.storage() / "docker/registry/v2/blobs/sha256" / layer.substr(7, 2) / layer.substr(7) / "data";
    BOOST_REQUIRE(fs::exists(data));
    std::string bytes = read_text(data);
    bytes[bytes.size() / 2] ^= 0x01;
    write_text(data, bytes);
    r = lxcri({"cache", "prune", "--all"});
    BOOST_TEST(r.exit_code == 0, r.err);
    r = lxcri({"pull", "--cert-dir", ca.certs.string(), open_ref});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(r.err.find("Digest did not match") != std::string::npos, r.err);
    BOOST_TEST(lxcri({"bundle", "create", (tmp / "none").string(), "--image", open_ref, "-q"}).exit_code == 4);
}
