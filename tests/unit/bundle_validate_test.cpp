#define BOOST_TEST_MODULE bundle_validate
#include <boost/test/unit_test.hpp>

#include "bundle/bundle_generator.hpp"
#include "bundle/validator.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/files.hpp>

#include <unistd.h>

#include <algorithm>

namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::TempDir;
using lxcri::test::write_text;
namespace bundle = lxcri::bundle;

namespace {

const fs::path corpus = fs::path(LXCRI_FIXTURES_DIR) / "bundles";

// What `bundle validate` prints: one line per problem.
std::string text_of(const bundle::ValidationResult& result) {
    std::string text;
    for (const auto& problem : result.problems) text += lxcri::oci::to_string(problem) + "\n";
    return text;
}

std::vector<fs::path> cases(const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_directory()) found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    return found;
}

// A valid bundle whose rootfs is made by the test.
fs::path make_bundle(const TempDir& tmp, const std::string& root_path = "rootfs") {
    const fs::path dir = tmp / "bundle";
    fs::create_directories(dir);
    json::object config = bundle::default_config();
    config["root"].as_object()["path"] = root_path;
    lxcri::write_file_atomic(dir / "config.json", lxcri::to_pretty_json(config), 0644);
    return dir;
}

void require_valid(const fs::path& dir) {
    const auto result = bundle::validate_bundle(dir);
    BOOST_TEST(result.valid(), dir);
    BOOST_TEST(text_of(result) == "");
}

}  // namespace

BOOST_AUTO_TEST_CASE(good_bundles_of_the_corpus_are_valid) {
    const auto good = cases(corpus / "good");
    BOOST_TEST(good.size() >= 2u);
    for (const auto& dir : good) require_valid(dir);
}

BOOST_AUTO_TEST_CASE(each_broken_bundle_of_the_corpus_gets_its_expected_messages) {
    const auto broken = cases(corpus / "broken");
    BOOST_TEST(broken.size() >= 20u);
    for (const auto& dir : broken) {
        BOOST_TEST_CONTEXT(dir.filename().string()) {
            const auto result = bundle::validate_bundle(dir);
            BOOST_TEST(!result.valid());
            BOOST_TEST(text_of(result) == lxcri::test::read_text(dir / "expected.txt"));
        }
    }
}

BOOST_AUTO_TEST_CASE(root_path_may_not_escape_through_symlinks) {
    {
        TempDir tmp;
        const fs::path dir = make_bundle(tmp);
        fs::create_directory_symlink("/", dir / "rootfs");
        BOOST_TEST(text_of(bundle::validate_bundle(dir)) == "root.path: 'rootfs' resolves outside the bundle\n");
    }
    {
        TempDir tmp;
        const fs::path dir = make_bundle(tmp);
        fs::create_directories(tmp / "elsewhere");
        fs::create_directory_symlink("../elsewhere", dir / "rootfs");
        BOOST_TEST(text_of(bundle::validate_bundle(dir)) == "root.path: 'rootfs' resolves outside the bundle\n");
    }
    {
        TempDir tmp;  // a symlink on the way, not at the end
        const fs::path dir = make_bundle(tmp, "via/rootfs");
        fs::create_directories(tmp / "elsewhere/rootfs");
        fs::create_directory_symlink(tmp / "elsewhere", dir / "via");
        BOOST_TEST(text_of(bundle::validate_bundle(dir)) == "root.path: 'via/rootfs' resolves outside the bundle\n");
    }
    {
        TempDir tmp;  // symlinks that stay inside are fine
        const fs::path dir = make_bundle(tmp);
        fs::create_directories(dir / "images/v1");
        fs::create_directory_symlink("images/v1", dir / "rootfs");
        require_valid(dir);
    }
}

BOOST_AUTO_TEST_CASE(absolute_root_path_inside_the_bundle_is_fine) {
    TempDir tmp;
    const fs::path dir = make_bundle(tmp, (tmp / "bundle/rootfs").string());
    fs::create_directories(dir / "rootfs");
    require_valid(dir);
    // The same bundle reached through another name for its directory.
    fs::create_directory_symlink(dir, tmp / "alias");
    require_valid(tmp / "alias");
}

BOOST_AUTO_TEST_CASE(the_bundle_itself) {
    TempDir tmp;
    auto result = bundle::validate_bundle(tmp / "missing");
    BOOST_TEST(text_of(result) == "bundle '" + (tmp / "missing").string() + "' does not exist\n");
    write_text(tmp / "file", "x");
    result = bundle::validate_bundle(tmp / "file");
    BOOST_TEST(text_of(result) == "bundle '" + (tmp / "file").string() + "' is not a directory\n");
    fs::create_directories(tmp / "b/config.json");
    result = bundle::validate_bundle(tmp / "b");
    BOOST_TEST(!result.valid());
    BOOST_TEST(result.problems.at(0).path == "config.json");
}

BOOST_AUTO_TEST_CASE(json_report) {
    const auto result = bundle::validate_bundle(corpus / "broken/wrong-types");
    const json::object report = bundle::to_json(result);
    BOOST_TEST(report.at("valid") == false);
    BOOST_TEST(report.at("problems").as_array().size() == 2u);
    BOOST_TEST(report.at("problems").at(0).at("path") == "process.terminal");
    BOOST_TEST(report.at("problems").at(0).at("message") == "must be a boolean");
    BOOST_TEST(json::serialize(bundle::to_json(bundle::validate_bundle(corpus / "good/minimal"))) ==
               R"({"valid":true,"problems":[]})");
}

// Round trip: whatever the generator writes, the validator accepts.
BOOST_AUTO_TEST_CASE(every_generated_bundle_is_valid) {
    TempDir tmp;
    write_text(tmp / "template.json", R"({"ociVersion": "1.1.0", "process": {"args": ["/sbin/init"], "cwd": "/"},
                                          "root": {"path": "elsewhere"}, "linux": {"namespaces": [{"type": "pid"}]}})");
    std::vector<bundle::ConfigOptions> variants(5);
    variants[1].args = {"/bin/echo", "hello"};
    variants[1].env = {"A=b"};
    variants[1].cwd = "/tmp";
    variants[1].hostname = "h";
    variants[1].user = bundle::User{1, 2};
    variants[1].memory = 1 << 30;
    variants[1].cpus = 0.5;
    variants[1].readonly = true;
    variants[1].mounts = {bundle::parse_mount("/srv:/srv:ro")};
    variants[1].annotations = {{"k", "v"}};
    variants[2].rootless = true;
    variants[2].rootless_host_ids = {::geteuid(), ::getegid()};
    variants[3].template_path = tmp / "template.json";
    variants[4] = variants[1];
    variants[4].rootless = true;
    int n = 0;
    for (const auto& config : variants) {
        bundle::CreateOptions options;
        options.path = tmp / ("bundle" + std::to_string(n++));
        options.config = config;
        bundle::create_bundle(options);
        require_valid(options.path);
    }
}
