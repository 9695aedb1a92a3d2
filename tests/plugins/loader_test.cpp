#define BOOST_TEST_MODULE plugin_loader
#include <boost/test/unit_test.hpp>

#include "plugin/plugin_loader.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <sys/stat.h>

namespace fs = std::filesystem;
using lxcri::test::TempDir;

namespace {

bool message_has(const lxcri::Error& e, const std::string& text) {
    return e.code() == lxcri::Errc::plugin && std::string(e.what()).find(text) != std::string::npos;
}

// A private copy of a plugin file, so its permissions can be changed.
fs::path copy_plugin(const fs::path& from, const fs::path& dir) {
    fs::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    fs::copy_file(from, dir / from.filename(), fs::copy_options::overwrite_existing);
    ::chmod((dir / from.filename()).c_str(), 0755);
    return dir / from.filename();
}

}  // namespace

BOOST_AUTO_TEST_CASE(default_directory_is_found_next_to_the_binary) {
    // The test binaries live in <build>/tests, next to <build>/lib.
    BOOST_CHECK_EQUAL(fs::canonical(lxcri::PluginLoader::default_directory()), fs::canonical(LXCRI_PLUGIN_DIR));
}

BOOST_AUTO_TEST_CASE(discovers_the_built_plugins) {
    lxcri::PluginLoader loader({LXCRI_PLUGIN_DIR});
    std::set<std::string> names;
    for (const auto& file : loader.discover())
        names.insert(std::string(lxcri::to_string(file.kind)) + ":" + file.name);
    BOOST_CHECK(names.count("backend:dry-run"));
    BOOST_CHECK(names.count("mapping:hash"));
    BOOST_CHECK(names.count("mapping:incremental"));
    for (const auto& file : loader.discover()) {
        auto d = loader.describe(file);
        BOOST_CHECK_EQUAL(d.api_version, lxcri::plugin_api_version);
        BOOST_CHECK(!d.version.empty());
        BOOST_CHECK(!d.description.empty());
    }
}

BOOST_AUTO_TEST_CASE(loads_and_uses_a_backend_and_a_mapping) {
    lxcri::PluginLoader loader({LXCRI_PLUGIN_DIR});
    lxcri::PluginContext context;
    context.options["vmids-in-use"] = "150,200-202";
    auto backend = loader.load_backend("dry-run", context);
    BOOST_CHECK_EQUAL(backend.description().file.name, "dry-run");
    BOOST_CHECK((backend->vmids_in_use() == std::set<lxcri::Vmid>{150, 200, 201, 202}));
    auto mapping = loader.load_mapping("incremental", {});
    BOOST_CHECK_EQUAL(mapping->candidate("x", {100, 200}, 3), 103u);
}

BOOST_AUTO_TEST_CASE(plugin_option_errors_come_from_the_plugin_as_lxcri_errors) {
    lxcri::PluginLoader loader({LXCRI_PLUGIN_DIR});
    lxcri::PluginContext context;
    context.options["vmids-in-use"] = "12";
    BOOST_CHECK_EXCEPTION(loader.load_backend("dry-run", context), lxcri::Error, [](const lxcri::Error& e) {
        return e.code() == lxcri::Errc::invalid_input && std::string(e.what()).find("vmids-in-use") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(unknown_plugin_names_the_directories) {
    lxcri::PluginLoader loader({LXCRI_PLUGIN_DIR});
    BOOST_CHECK_EXCEPTION(loader.load_backend("nope", {}), lxcri::Error,
                          [](const lxcri::Error& e) { return message_has(e, "unknown backend 'nope'"); });
}

BOOST_AUTO_TEST_CASE(api_version_mismatch_is_refused_before_loading) {
    lxcri::PluginLoader loader({LXCRI_TEST_PLUGIN_DIR});
    BOOST_CHECK_EXCEPTION(loader.load_backend("badapi", {}), lxcri::Error, [](const lxcri::Error& e) {
        return message_has(e, "built for plugin API 999, this proxmox-lxcri provides API " + std::to_string(lxcri::plugin_api_version));
    });
}

BOOST_AUTO_TEST_CASE(writable_plugin_file_or_directory_is_refused) {
    TempDir tmp;
    fs::path file = copy_plugin(fs::path(LXCRI_PLUGIN_DIR) / "lxcri-mapping-hash.so", tmp / "plugins");
    lxcri::PluginLoader loader({tmp / "plugins"});
    BOOST_CHECK_NO_THROW(loader.load_mapping("hash", {}));
    ::chmod(file.c_str(), 0757);
    BOOST_CHECK_EXCEPTION(loader.load_mapping("hash", {}), lxcri::Error,
                          [](const lxcri::Error& e) { return message_has(e, "writable by group or others"); });
    ::chmod(file.c_str(), 0755);
    ::chmod((tmp / "plugins").c_str(), 0777);
    BOOST_CHECK_EXCEPTION(loader.load_mapping("hash", {}), lxcri::Error,
                          [](const lxcri::Error& e) { return message_has(e, "refusing plugin directory"); });
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_plugin_is_refused) {
    TempDir tmp;
    fs::create_directories(tmp / "plugins");
    ::chmod((tmp / "plugins").c_str(), 0755);
    lxcri::test::write_text(tmp / "plugins" / "lxcri-backend-junk.so", "#!/bin/sh\necho not elf\n");
    ::chmod((tmp / "plugins" / "lxcri-backend-junk.so").c_str(), 0755);
    // A real shared library that is not a plugin: liblxcri-core itself.
    fs::copy_file(fs::path(LXCRI_BUILD_DIR) / "lib" / "liblxcri-core.so", tmp / "plugins" / "lxcri-backend-core.so");
    ::chmod((tmp / "plugins" / "lxcri-backend-core.so").c_str(), 0755);
    lxcri::PluginLoader loader({tmp / "plugins"});
    BOOST_CHECK_EXCEPTION(loader.load_backend("junk", {}), lxcri::Error,
                          [](const lxcri::Error& e) { return message_has(e, "not a loadable shared library"); });
    BOOST_CHECK_EXCEPTION(loader.load_backend("core", {}), lxcri::Error,
                          [](const lxcri::Error& e) { return message_has(e, "is not a proxmox-lxcri backend plugin"); });
}

BOOST_AUTO_TEST_CASE(plugin_dir_entries_shadow_later_directories) {
    TempDir tmp;
    copy_plugin(fs::path(LXCRI_PLUGIN_DIR) / "lxcri-mapping-hash.so", tmp / "plugins");
    ::chmod((tmp / "plugins").c_str(), 0755);
    lxcri::PluginLoader loader({tmp / "plugins", LXCRI_PLUGIN_DIR});
    auto file = loader.find(lxcri::PluginKind::mapping, "hash");
    BOOST_REQUIRE(file);
    BOOST_CHECK_EQUAL(file->path.parent_path(), tmp / "plugins");
    size_t hashes = 0;
    for (const auto& f : loader.discover()) hashes += f.name == "hash";
    BOOST_CHECK_EQUAL(hashes, 1u);
}
