#pragma once

// Plugins built into the static proxmox-lxcri (docs/ARCHITECTURE.md,
// "Built-in plugins"). The plugin host and a plugin never have any.
//
// The source files of the lxc and dry-run backends and of the hash and
// incremental mappings are compiled a second time (plugins/CMakeLists.txt,
// lxcri_build_in) with LXCRI_PLUGIN_BUILTIN defined;
// LXCRI_BACKEND_PLUGIN and LXCRI_MAPPING_PLUGIN (include/lxcri/plugin.hpp)
// then register the plugin here instead of exporting its entry points, and
// the objects are linked into proxmox-lxcri. With them goes the GNU build
// id of the plugin file built from the same sources (a generated file,
// BuildId below). PluginLoader makes a plugin from its built-in copy when
// the file it found is that plugin in the installation's own plugin
// directory and carries that build id: the very file, not one replaced
// by another build; any other file is loaded, by the plugin host.

#include <lxcri/plugin.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace lxcri {
class Backend;
class MappingStrategy;
}  // namespace lxcri

namespace lxcri::builtin {

struct Entry {
    PluginInfo info;
    std::unique_ptr<Backend> (*create_backend)(const PluginContext&) = nullptr;  // a backend's factory
    std::unique_ptr<MappingStrategy> (*create_mapping)(const PluginContext&) = nullptr;  // a mapping's
};

// A static object of each built-in plugin registers it.
struct Registrar {
    explicit Registrar(const Entry& entry);
};

// The build id of the plugin file built with the built-in copy of this
// kind and name (lower-case hex), registered by a generated source file.
struct BuildId {
    BuildId(PluginKind kind, const char* name, const char* hex);
};

// Whether a plugin of this kind and name is built in.
bool has(PluginKind kind, std::string_view name);

// The built-in plugin of this kind and name whose plugin file is
// `file_build_id`; nullptr when there is none, or its file is another.
const Entry* find(PluginKind kind, std::string_view name, std::string_view file_build_id);

// The GNU build id of an ELF file (its NT_GNU_BUILD_ID note, lower-case
// hex); empty when it has none or cannot be read.
std::string read_build_id(const std::filesystem::path& file);

}  // namespace lxcri::builtin

// What LXCRI_BACKEND_PLUGIN and LXCRI_MAPPING_PLUGIN expand to in a
// built-in plugin's objects.
#define LXCRI_DETAIL_BUILTIN(KIND, BACKEND, MAPPING, NAME, VERSION, DESCRIPTION)                          \
    namespace {                                                                                           \
    const ::lxcri::builtin::Registrar lxcri_builtin_registrar(::lxcri::builtin::Entry{                    \
        {LXCRI_PLUGIN_API_VERSION, ::lxcri::PluginKind::KIND, NAME, VERSION, DESCRIPTION}, BACKEND, MAPPING}); \
    }

#define LXCRI_BUILTIN_BACKEND_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION)                                     \
    LXCRI_DETAIL_BUILTIN(                                                                                 \
        backend,                                                                                          \
        [](const ::lxcri::PluginContext& context) -> std::unique_ptr<::lxcri::Backend> {                  \
            return std::make_unique<CLASS>(context);                                                      \
        },                                                                                                \
        nullptr, NAME, VERSION, DESCRIPTION)

#define LXCRI_BUILTIN_MAPPING_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION)                                     \
    LXCRI_DETAIL_BUILTIN(                                                                                 \
        mapping, nullptr,                                                                                 \
        [](const ::lxcri::PluginContext& context) -> std::unique_ptr<::lxcri::MappingStrategy> {          \
            return std::make_unique<CLASS>(context);                                                      \
        },                                                                                                \
        NAME, VERSION, DESCRIPTION)
