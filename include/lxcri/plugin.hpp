#pragma once

// The plugin ABI. A plugin is a shared library named lxcri-<kind>-<name>.so
// that uses exactly one of LXCRI_BACKEND_PLUGIN / LXCRI_MAPPING_PLUGIN in one
// of its source files. See docs/PLUGINS.md.

#include <lxcri/error.hpp>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <boost/preprocessor/cat.hpp>

#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

// Bumped whenever a change to include/lxcri/ breaks binary compatibility:
// a changed virtual function list or signature, a changed layout of a struct
// passed between core and plugin (PluginInfo, PluginContext, ContainerSpec,
// CreateRequest, ...). The core refuses plugins built for another version.
#define LXCRI_PLUGIN_API_VERSION 4  // history: docs/PLUGINS.md

namespace lxcri {

inline constexpr unsigned plugin_api_version = LXCRI_PLUGIN_API_VERSION;

enum class PluginKind { backend, mapping };

// What a plugin says about itself. The strings live in the plugin and are
// copied by the core before the library may be unloaded.
struct PluginInfo {
    unsigned api_version;
    PluginKind kind;
    const char* name;
    const char* version;
    const char* description;
};

// What the core gives a plugin's factory.
struct PluginContext {
    // Keys of the operator config section named after the plugin
    // (`[lxc]`, `[dry-run]`, `[hash]` ...), without the section prefix.
    std::map<std::string, std::string> options;
    std::filesystem::path root;         // --root: per-container runtime dirs live here
    std::filesystem::path state_dir;    // --state-dir: persistent state (the VMID mapping)
    std::filesystem::path libexec_dir;  // where proxmox-lxcri-init is installed

    // The option's value, or `fallback` when the operator did not set it.
    std::string option(const std::string& key, const std::string& fallback = {}) const {
        auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    }

    // Error(invalid_input) "<section>.<key>: unknown key (known: ...)" for
    // the first option that is not in `known`: a typo must not be ignored.
    void require_known_keys(std::string_view section, std::initializer_list<std::string_view> known) const {
        for (const auto& [key, value] : options) {
            bool found = false;
            std::string list;
            for (auto k : known) {
                found = found || k == key;
                list += (list.empty() ? "" : ", ") + std::string(k);
            }
            if (!found)
                throw Error(Errc::invalid_input,
                            std::string(section) + "." + key + ": unknown key (known: " + list + ")");
        }
    }

    // The option as a whole number in [min, max], or `fallback` when unset.
    long long integer_option(std::string_view section, const std::string& key, long long fallback, long long min,
                             long long max) const {
        auto it = options.find(key);
        if (it == options.end()) return fallback;
        const std::string& text = it->second;
        long long value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
            throw Error(Errc::invalid_input, std::string(section) + "." + key + ": '" + text +
                                                 "' is not a whole number from " + std::to_string(min) + " to " +
                                                 std::to_string(max));
        return value;
    }
};

}  // namespace lxcri

#ifdef LXCRI_PLUGIN_BUILTIN
// Only in this project's tree: a plugin compiled into the static
// proxmox-lxcri registers itself instead (core/plugin/builtin_plugins.hpp).
#include "plugin/builtin_plugins.hpp"
#define LXCRI_BACKEND_PLUGIN LXCRI_BUILTIN_BACKEND_PLUGIN
#define LXCRI_MAPPING_PLUGIN LXCRI_BUILTIN_MAPPING_PLUGIN
#else

// Symbols the core looks for in the "lxcri" section, before loading anything:
// lxcri_plugin_info, lxcri_api_v<N> and the factory for the plugin's kind.
#define LXCRI_PLUGIN_API_MARKER BOOST_PP_CAT(lxcri_api_v, LXCRI_PLUGIN_API_VERSION)

#define LXCRI_DETAIL_PLUGIN_INFO(KIND, NAME, VERSION, DESCRIPTION)                              \
    namespace lxcri_plugin_detail {                                                             \
    ::lxcri::PluginInfo plugin_info() {                                                         \
        return {LXCRI_PLUGIN_API_VERSION, ::lxcri::PluginKind::KIND, NAME, VERSION, DESCRIPTION}; \
    }                                                                                           \
    }                                                                                           \
    BOOST_DLL_ALIAS_SECTIONED(lxcri_plugin_detail::plugin_info, lxcri_plugin_info, lxcri)       \
    BOOST_DLL_ALIAS_SECTIONED(lxcri_plugin_detail::plugin_info, LXCRI_PLUGIN_API_MARKER, lxcri)

// Declares a backend plugin whose class CLASS derives from lxcri::Backend and
// has a constructor taking `const lxcri::PluginContext&`.
#define LXCRI_BACKEND_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION)                                 \
    LXCRI_DETAIL_PLUGIN_INFO(backend, NAME, VERSION, DESCRIPTION)                               \
    namespace lxcri_plugin_detail {                                                             \
    std::unique_ptr<::lxcri::Backend> create_backend(const ::lxcri::PluginContext& context) {   \
        return std::make_unique<CLASS>(context);                                                \
    }                                                                                           \
    }                                                                                           \
    BOOST_DLL_ALIAS_SECTIONED(lxcri_plugin_detail::create_backend, lxcri_create_backend, lxcri)

// Declares a mapping plugin whose class CLASS derives from
// lxcri::MappingStrategy and has a constructor taking `const lxcri::PluginContext&`.
#define LXCRI_MAPPING_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION)                                 \
    LXCRI_DETAIL_PLUGIN_INFO(mapping, NAME, VERSION, DESCRIPTION)                               \
    namespace lxcri_plugin_detail {                                                             \
    std::unique_ptr<::lxcri::MappingStrategy> create_mapping(                                   \
        const ::lxcri::PluginContext& context) {                                                \
        return std::make_unique<CLASS>(context);                                                \
    }                                                                                           \
    }                                                                                           \
    BOOST_DLL_ALIAS_SECTIONED(lxcri_plugin_detail::create_mapping, lxcri_create_mapping, lxcri)

#endif  // LXCRI_PLUGIN_BUILTIN
