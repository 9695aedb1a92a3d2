#define BOOST_TEST_MODULE image
#include <boost/test/unit_test.hpp>

#include "bundle/bundle_generator.hpp"
#include "bundle/validator.hpp"
#include "image/convert.hpp"
#include "image/image.hpp"
#include "image/layer_cache.hpp"
#include "image/pull.hpp"
#include "image/reference.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/sha256.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

// Images built by tests/support/make_image.py read, checked, converted and
// unpacked through the layer cache; hostile and broken images refused with
// nothing written outside. Runs as any user (owners are kept only as root).

namespace fs = std::filesystem;
namespace json = boost::json;
namespace image = lxcri::image;
namespace bundle = lxcri::bundle;
using lxcri::Errc;
using lxcri::Error;
using lxcri::test::read_text;
using lxcri::test::run;
using lxcri::test::TempDir;
using lxcri::test::write_text;

namespace {

bool message_has(const Error& e, const std::string& text) {
    BOOST_TEST_MESSAGE(e.what());
    return std::string(e.what()).find(text) != std::string::npos;
}

// The test image of the issue: several layers, whiteouts, an opaque
// directory, a hard link to a file of a lower layer, symlinks, xattrs, a
// user name, Entrypoint + Cmd, Env, WorkingDir.
json::object test_spec() {
    return json::parse(R"({
      "tag": "v1",
      "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hello"], "Env": ["GREETING=world", "PATH=/bin"],
                 "WorkingDir": "/srv", "User": "app", "Labels": {"org.example.k": "v", "org.opencontainers.image.os": "label-os"},
                 "ExposedPorts": {"80/tcp": {}, "443/tcp": {}}, "Volumes": {"/data/vol": {}}, "StopSignal": "SIGQUIT"},
      "layers": [
        {"compression": "gzip", "entries": [
          {"path": "bin", "type": "dir"},
          {"path": "bin/sh", "type": "symlink", "target": "busybox"},
          {"path": "etc/passwd", "type": "file", "content": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n"},
          {"path": "etc/group", "type": "file", "content": "root:x:0:\napp:x:1000:\nextra:x:2000:other,app\nwheel:x:10:app\n"},
          {"path": "srv", "type": "dir"},
          {"path": "old/gone", "type": "file", "content": "x"},
          {"path": "old/kept", "type": "file", "content": "k"},
          {"path": "opq/a", "type": "file", "content": "a"},
          {"path": "opq/sub/deep", "type": "file", "content": "d"},
          {"path": "data/file", "type": "file", "content": "shared", "xattrs": {"user.tag": "one"}}]},
        {"compression": "zstd", "entries": [
          {"path": "old/.wh.gone", "type": "file"},
          {"path": "opq/.wh..wh..opq", "type": "file"},
          {"path": "opq/b", "type": "file", "content": "b"},
          {"path": "data/link", "type": "hardlink", "target": "data/file"}]},
        {"compression": "none", "entries": [{"path": "srv/hello.txt", "type": "file", "content": "hi", "mode": 384}]}
      ]})").as_object();
}

struct Fixture {
    TempDir tmp;
    fs::path state = tmp / "state";
    image::StorePaths store{state};

    fs::path build(const json::object& spec, const std::string& name = "layout", const std::string& kind = "layout") {
        lxcri::test::make_image(json::serialize(spec), kind, tmp / name);
        return tmp / name;
    }

    fs::path create(const std::string& reference, const std::string& name,
                    const std::function<void(bundle::CreateOptions&)>& edit = {}) {
        bundle::CreateOptions options;
        options.path = tmp / name;
        options.image = reference;
        options.state_dir = state;
        if (edit) edit(options);
        bundle::create_bundle(options);
        return tmp / name;
    }

    json::object config_of(const fs::path& bundle) { return lxcri::read_json_file(bundle / "config.json").as_object(); }

    // The blob of the first manifest's n-th layer in a layout.
    fs::path layer_blob(const fs::path& layout, size_t n) {
        json::value index = lxcri::read_json_file(layout / "index.json");
        std::string digest(index.at("manifests").at(0).at("digest").as_string());
        json::value manifest = lxcri::read_json_file(layout / "blobs/sha256" / digest.substr(7));
        std::string layer(manifest.at("layers").at(n).at("digest").as_string());
        return layout / "blobs/sha256" / layer.substr(7);
    }

    std::vector<std::string> chains() {
        std::vector<std::string> found;
        if (fs::exists(store.chains()))
            for (const auto& e : fs::directory_iterator(store.chains()))
                if (e.is_directory()) found.push_back(e.path().filename().string());
        return found;
    }
};

std::string xattr(const fs::path& path, const char* name) {
    char value[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
    return n < 0 ? std::string() : std::string(value, static_cast<size_t>(n));
}

}  // namespace

BOOST_AUTO_TEST_CASE(references_parse_as_skopeo_spells_them) {
    auto oci = image::parse_reference("oci:/srv/layout:v1");
    BOOST_TEST((oci.transport == image::Transport::oci));
    BOOST_TEST(oci.path == "/srv/layout");
    BOOST_TEST(oci.tag == "v1");
    const std::string digest = "sha256:" + std::string(64, 'a');
    auto pinned = image::parse_reference("oci:/srv/layout@" + digest);
    BOOST_TEST(pinned.digest == digest);
    BOOST_TEST(pinned.tag == "");
    BOOST_TEST(image::parse_reference("oci-archive:/x.tar").tag == "");
    BOOST_TEST((image::parse_reference("docker-archive:/x.tar:app:1").tag == "app:1"));

    BOOST_TEST(image::parse_reference("docker://alpine").canonical() == "docker://docker.io/library/alpine:latest");
    BOOST_TEST(image::parse_reference("docker://quay.io/a/b:1.2").canonical() == "docker://quay.io/a/b:1.2");
    BOOST_TEST(image::parse_reference("docker://127.0.0.1:5000/test/img").canonical() ==
               "docker://127.0.0.1:5000/test/img:latest");
    BOOST_TEST(image::parse_reference("docker://localhost/x@" + digest).canonical() == "docker://localhost/x@" + digest);

    for (const char* bad : {"alpine", "ftp:x", "docker://", "docker://Upper/case", "docker://a/b:bad/tag",
                            "docker://a@sha256:12", "oci:", "oci:/x@sha512:00", "docker://:5000/x"})
        BOOST_CHECK_EXCEPTION(image::parse_reference(bad), Error,
                              [](const Error& e) { return e.code() == Errc::invalid_input && message_has(e, "'"); });
}

BOOST_AUTO_TEST_CASE(platforms) {
    auto p = image::parse_platform("linux/arm64/v8");
    BOOST_TEST(p.to_string() == "linux/arm64/v8");
    BOOST_TEST(image::platform_matches(image::parse_platform("linux/arm64"), {"linux", "arm64", "v8"}));
    BOOST_TEST(image::platform_matches(p, {"linux", "arm64", ""}));
    BOOST_TEST(!image::platform_matches(image::parse_platform("linux/arm/v7"), {"linux", "arm", "v6"}));
    BOOST_TEST(!image::platform_matches(image::parse_platform("linux/amd64"), {"linux", "arm64", ""}));
    BOOST_CHECK_THROW(image::parse_platform("linux"), Error);
    BOOST_CHECK_THROW(image::parse_platform("linux//v7"), Error);
    BOOST_TEST(image::host_platform().os == "linux");
}

BOOST_AUTO_TEST_CASE(chain_ids_follow_the_image_spec) {
    image::Layer a, b;
    a.diff_id = "sha256:" + std::string(64, '1');
    b.diff_id = "sha256:" + std::string(64, '2');
    auto chains = image::chain_ids({a, b});
    BOOST_TEST(chains.size() == 2u);
    BOOST_TEST(chains[0] == a.diff_id);
    BOOST_TEST(chains[1] == "sha256:" + lxcri::sha256_hex(a.diff_id + " " + b.diff_id));
}

BOOST_FIXTURE_TEST_CASE(an_image_becomes_a_bundle_as_the_image_spec_says, Fixture) {
    fs::path layout = build(test_spec());
    fs::path b = create("oci:" + layout.string() + ":v1", "b");
    fs::path r = b / "rootfs";

    // Layers: whiteout, opaque directory, cross-layer hard link, xattrs.
    BOOST_TEST(!fs::exists(r / "old/gone"));
    BOOST_TEST(fs::exists(r / "old/kept"));
    BOOST_TEST(!fs::exists(r / "opq/a"));
    BOOST_TEST(!fs::exists(r / "opq/sub"));
    BOOST_TEST(read_text(r / "opq/b") == "b");
    BOOST_TEST(fs::equivalent(r / "data/file", r / "data/link"));
    BOOST_TEST(fs::is_symlink(r / "bin/sh"));
    BOOST_TEST(xattr(r / "data/file", "user.tag") == "one");
    BOOST_TEST(((fs::status(r / "srv/hello.txt").permissions() & fs::perms::all) == fs::perms(0600)));
    BOOST_TEST(fs::is_directory(r / "data/vol"));  // Config.Volumes

    json::object config = config_of(b);
    const json::object& process = config.at("process").as_object();
    BOOST_TEST(json::serialize(process.at("args")) == R"(["/bin/sh","-c","echo hello"])");
    BOOST_TEST(process.at("cwd").as_string() == "/srv");
    BOOST_TEST(json::serialize(process.at("env")) == R"(["PATH=/bin","TERM=xterm","GREETING=world"])");
    BOOST_TEST(process.at("user").at("uid").as_int64() == 1000);
    BOOST_TEST(process.at("user").at("gid").as_int64() == 1000);
    BOOST_TEST(json::serialize(process.at("user").at("additionalGids")) == "[2000,10]");
    const json::object& a = config.at("annotations").as_object();
    BOOST_TEST(a.at("org.opencontainers.image.stopSignal").as_string() == "SIGQUIT");
    BOOST_TEST(a.at("org.opencontainers.image.exposedPorts").as_string() == "443/tcp,80/tcp");
    BOOST_TEST(a.at("org.opencontainers.image.os").as_string() == "label-os");  // Labels win
    BOOST_TEST(a.at("org.opencontainers.image.architecture").as_string() == "amd64");
    BOOST_TEST(a.at("org.example.k").as_string() == "v");
    BOOST_TEST(a.at(image::image_volumes_annotation).as_string() == "/data/vol");
    BOOST_TEST(a.at(image::image_reference_annotation).as_string() == "oci:" + layout.string() + ":v1");
    json::value index = lxcri::read_json_file(layout / "index.json");
    BOOST_TEST(a.at(image::image_digest_annotation).as_string() == index.at("manifests").at(0).at("digest").as_string());
    BOOST_TEST(bundle::validate_bundle(b).valid());
}

BOOST_FIXTURE_TEST_CASE(flags_override_the_image, Fixture) {
    fs::path layout = build(test_spec());
    const std::string ref = "oci:" + layout.string() + ":v1";
    auto config = config_of(create(ref, "args", [](auto& o) { o.config.args = {"echo", "replaced"}; }));
    BOOST_TEST(json::serialize(config.at("process").at("args")) == R"(["/bin/sh","-c","echo","replaced"])");
    config = config_of(create(ref, "entry", [](auto& o) { o.config.entrypoint = std::vector<std::string>{"/bin/true"}; }));
    BOOST_TEST(json::serialize(config.at("process").at("args")) == R"(["/bin/true"])");
    config = config_of(create(ref, "user", [](auto& o) {
        o.config.user = bundle::User{5, 6};
        o.config.env = {"GREETING=flag"};
        o.config.cwd = "/";
        o.config.annotations = {{"org.example.k", "flag"}};
    }));
    BOOST_TEST(json::serialize(config.at("process").at("user")) == R"({"uid":5,"gid":6})");
    BOOST_TEST(json::serialize(config.at("process").at("env")) == R"(["PATH=/bin","TERM=xterm","GREETING=flag"])");
    BOOST_TEST(config.at("process").at("cwd").as_string() == "/");
    BOOST_TEST(config.at("annotations").at("org.example.k").as_string() == "flag");
}

BOOST_FIXTURE_TEST_CASE(users_resolve_in_the_image, Fixture) {
    json::object spec = test_spec();
    auto user_config = [&](const std::string& user, const std::string& name) {
        spec["config"].as_object()["User"] = user;
        fs::path layout = build(spec, name);
        return config_of(create("oci:" + layout.string(), "b-" + name)).at("process").at("user");
    };
    BOOST_TEST(json::serialize(user_config("1000", "numeric")) == R"({"uid":1000,"gid":1000})");
    BOOST_TEST(json::serialize(user_config("4242", "unlisted")) == R"({"uid":4242,"gid":0})");
    BOOST_TEST(json::serialize(user_config("app:wheel", "group")) == R"({"uid":1000,"gid":10})");
    BOOST_TEST(json::serialize(user_config("0:77", "both")) == R"({"uid":0,"gid":77})");
    for (const char* bad : {"nobody", "app:nogroup"}) {
        spec["config"].as_object()["User"] = bad;
        fs::path layout = build(spec, std::string("bad-") + (bad[0] == 'n' ? "user" : "group"));
        BOOST_CHECK_EXCEPTION(create("oci:" + layout.string(), "bad"), Error, [](const Error& e) {
            return e.code() == Errc::invalid_input && message_has(e, "in the image's /etc/");
        });
        BOOST_TEST(!fs::exists(tmp / "bad"));
    }
}

BOOST_FIXTURE_TEST_CASE(the_second_bundle_comes_from_the_cache, Fixture) {
    fs::path layout = build(test_spec());
    create("oci:" + layout.string() + ":v1", "first");
    BOOST_TEST(chains().size() == 1u);
    // The cache's copy is not the bundle's: a write in one does not show in the other.
    fs::path second = create("oci:" + layout.string() + ":v1", "second");
    write_text(second / "rootfs/opq/b", "changed");
    fs::path cached = store.chains() / chains().front() / "rootfs";
    BOOST_TEST(read_text(cached / "opq/b") == "b");
    struct stat a {}, c {};
    ::stat((second / "rootfs/data/file").c_str(), &a);
    ::stat((cached / "data/file").c_str(), &c);
    BOOST_TEST(a.st_ino != c.st_ino);  // never a hard link
    BOOST_TEST(image::list_chains(store).size() == 1u);
    BOOST_TEST(image::list_chains(store).front().layers == 3u);

    // An image with one more layer starts from the cached stack.
    json::object spec = test_spec();
    spec["layers"].as_array().push_back(json::parse(R"({"compression": "gzip", "entries": [
        {"path": "srv/more", "type": "file", "content": "more"}]})"));
    fs::path bigger = build(spec, "bigger");
    fs::path b = create("oci:" + bigger.string(), "bigger-bundle");
    BOOST_TEST(read_text(b / "rootfs/srv/more") == "more");
    BOOST_TEST(!fs::exists(b / "rootfs/old/gone"));
    BOOST_TEST(chains().size() == 2u);

    auto pruned = image::prune(store, false);
    BOOST_TEST(pruned.chains == 2u);
    BOOST_TEST(chains().empty());
}

BOOST_FIXTURE_TEST_CASE(an_index_gives_this_hosts_platform_or_the_one_asked, Fixture) {
    json::object spec = test_spec();
    spec["platforms"] = json::parse(R"([["linux", "arm64", "v8"], ["linux", "amd64"], ["linux", "s390x"]])");
    fs::path layout = build(spec);
    const std::string ref = "oci:" + layout.string() + ":v1";
    auto arch = [&](const fs::path& b) {
        return std::string(config_of(b).at("annotations").at("org.opencontainers.image.architecture").as_string());
    };
    BOOST_TEST(arch(create(ref, "s390", [](auto& o) { o.platform = "linux/s390x"; })) == "s390x");
    BOOST_TEST(arch(create(ref, "arm", [](auto& o) { o.platform = "linux/arm64"; })) == "arm64");
    if (image::host_platform().architecture == "amd64") BOOST_TEST(arch(create(ref, "host")) == "amd64");
    BOOST_CHECK_EXCEPTION(create(ref, "none", [](auto& o) { o.platform = "linux/riscv64"; }), Error, [](const Error& e) {
        return message_has(e, "no image for linux/riscv64") && message_has(e, "linux/arm64/v8, linux/amd64, linux/s390x");
    });
}

BOOST_FIXTURE_TEST_CASE(archives_are_image_sources_too, Fixture) {
    fs::path layout = build(test_spec());
    auto r = run({"tar", "-C", layout.string(), "-cf", (tmp / "image.tar").string(), "."});
    BOOST_REQUIRE(r.exit_code == 0);
    fs::path a = create("oci-archive:" + (tmp / "image.tar").string() + ":v1", "from-oci-archive");
    BOOST_TEST(read_text(a / "rootfs/srv/hello.txt") == "hi");
    fs::path docker = build(test_spec(), "docker.tar", "docker-archive");
    fs::path d = create("docker-archive:" + docker.string(), "from-docker-archive");
    BOOST_TEST(read_text(d / "rootfs/opq/b") == "b");
    BOOST_TEST(fs::equivalent(d / "rootfs/data/file", d / "rootfs/data/link"));
    BOOST_TEST(fs::is_empty(store.tmp()));  // the unpacked archives are gone
}

BOOST_FIXTURE_TEST_CASE(tampered_blobs_are_refused_before_use, Fixture) {
    fs::path layout = build(test_spec());
    fs::path blob = layer_blob(layout, 1);
    std::string data = read_text(blob);
    data[data.size() / 2] ^= 0x01;
    write_text(blob, data);
    BOOST_CHECK_EXCEPTION(create("oci:" + layout.string(), "b"), Error, [](const Error& e) {
        return e.code() == Errc::invalid_input && message_has(e, "layer 2 of 3") && message_has(e, "does not match its digest");
    });
    BOOST_TEST(!fs::exists(tmp / "b"));
    BOOST_TEST(chains().empty());
    BOOST_TEST(fs::is_empty(store.tmp()));

    write_text(blob, data + "x");  // the size is checked too
    BOOST_CHECK_EXCEPTION(create("oci:" + layout.string(), "b"), Error,
                          [](const Error& e) { return message_has(e, "its descriptor says"); });
}

BOOST_FIXTURE_TEST_CASE(a_wrong_diff_id_is_refused_and_nothing_is_cached, Fixture) {
    // A config that names another layer's DiffID: the blob is intact, its content is not what the config says.
    fs::path layout = build(test_spec());
    json::value index = lxcri::read_json_file(layout / "index.json");
    std::string manifest_digest(index.at("manifests").at(0).at("digest").as_string());
    json::value manifest = lxcri::read_json_file(layout / "blobs/sha256" / manifest_digest.substr(7));
    std::string config_digest(manifest.at("config").at("digest").as_string());
    json::value config = lxcri::read_json_file(layout / "blobs/sha256" / config_digest.substr(7));
    auto& ids = config.at("rootfs").at("diff_ids").as_array();
    std::swap(ids[0], ids[1]);
    const std::string config_text = json::serialize(config);
    const std::string new_config = "sha256:" + lxcri::sha256_hex(config_text);
    write_text(layout / "blobs/sha256" / new_config.substr(7), config_text);
    manifest.at("config").at("digest") = new_config;
    manifest.at("config").at("size") = config_text.size();
    const std::string manifest_text = json::serialize(manifest);
    const std::string new_manifest = "sha256:" + lxcri::sha256_hex(manifest_text);
    write_text(layout / "blobs/sha256" / new_manifest.substr(7), manifest_text);
    BOOST_CHECK_EXCEPTION(create("oci:" + layout.string() + "@" + new_manifest, "b"), Error, [](const Error& e) {
        return e.code() == Errc::invalid_input && message_has(e, "layer 1 of 3") && message_has(e, "diff_ids[0]");
    });
    BOOST_TEST(chains().empty());
    BOOST_TEST(!fs::exists(tmp / "b"));
}

BOOST_FIXTURE_TEST_CASE(unknown_and_non_distributable_layers_are_refused_by_name, Fixture) {
    BOOST_CHECK_EXCEPTION(image::layer_compression("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
                          Error, [](const Error& e) { return message_has(e, "non-distributable"); });
    BOOST_CHECK_EXCEPTION(image::layer_compression("application/x-squashfs"), Error,
                          [](const Error& e) { return message_has(e, "'application/x-squashfs'"); });
    BOOST_TEST((image::layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip") == image::Compression::gzip));
}

BOOST_FIXTURE_TEST_CASE(hostile_layers_write_nothing_outside, Fixture) {
    const fs::path outside = tmp / "outside";
    fs::create_directories(outside);
    struct Case {
        const char* name;
        std::string entries;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"dotdot", R"([{"path": "../../outside/evil", "type": "file", "content": "x"}])", "'..' would leave"},
        {"symlink", R"([{"path": "link", "type": "symlink", "target": ")" + outside.string() +
                        R"("}, {"path": "link/evil", "type": "file", "content": "x"}])",
         "goes through the symlink"},
        {"whiteout", R"([{"path": "etc/.wh..", "type": "file"}])", "not a valid whiteout"},
        {"absolute", R"([{"path": "/abs", "type": "file", "content": "x"}])", "absolute path"},
        {"hardlink", R"([{"path": "h", "type": "hardlink", "target": "../../outside/x"}])", "'..' would leave"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            json::object spec = test_spec();
            spec["layers"].as_array().push_back(
                json::object{{"compression", "gzip"}, {"entries", json::parse(c.entries)}});
            fs::path layout = build(spec, c.name);
            BOOST_CHECK_EXCEPTION(create("oci:" + layout.string(), std::string("b-") + c.name), Error,
                                  [&](const Error& e) { return e.code() == Errc::invalid_input && message_has(e, c.message); });
            BOOST_TEST(fs::is_empty(outside));
            BOOST_TEST(!fs::exists(tmp / (std::string("b-") + c.name)));
        }
    }
    BOOST_TEST(fs::is_empty(store.tmp()));
}

BOOST_FIXTURE_TEST_CASE(a_layout_with_several_images_needs_a_tag, Fixture) {
    fs::path layout = build(test_spec());
    json::value index = lxcri::read_json_file(layout / "index.json");
    json::value second = index.at("manifests").at(0);
    second.at("annotations").at("org.opencontainers.image.ref.name") = "v2";
    index.at("manifests").as_array().push_back(second);
    write_text(layout / "index.json", json::serialize(index));
    BOOST_CHECK_EXCEPTION(create("oci:" + layout.string(), "b"), Error,
                          [](const Error& e) { return message_has(e, "tags: v1, v2"); });
    BOOST_CHECK_EXCEPTION(create("oci:" + layout.string() + ":v3", "b"), Error,
                          [](const Error& e) { return message_has(e, "no image tagged 'v3'"); });
    BOOST_TEST(fs::exists(create("oci:" + layout.string() + ":v2", "b") / "rootfs/srv/hello.txt"));
}

BOOST_FIXTURE_TEST_CASE(a_docker_reference_must_be_pulled_first, Fixture) {
    BOOST_CHECK_EXCEPTION(create("docker://127.0.0.1:1/none:v1", "b"), Error, [](const Error& e) {
        return e.code() == Errc::not_found && message_has(e, "pull docker://127.0.0.1:1/none:v1");
    });
}

BOOST_FIXTURE_TEST_CASE(pull_without_skopeo_says_so, Fixture) {
    const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
    fs::create_directories(tmp / "empty-bin");
    ::setenv("PATH", (tmp / "empty-bin").c_str(), 1);
    try {
        image::pull(store, image::parse_reference("docker://127.0.0.1:1/none:v1"), {});
        BOOST_ERROR("pull without skopeo succeeded");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == Errc::not_found));
        BOOST_TEST(message_has(e, "skopeo is not installed"));
    }
    ::setenv("PATH", saved.c_str(), 1);
    BOOST_TEST(image::read_pulled(store).empty());
}
