#pragma once

#include <lxcri/backend.hpp>
#include <lxcri/mapping.hpp>
#include <lxcri/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

namespace builtin {
struct Entry;
}

std::string_view to_string(PluginKind kind);

// A plugin file found on disk: lxcri-<kind>-<name>.so.
struct PluginFile {
    std::filesystem::path path;
    PluginKind kind;
    std::string name;
};

// What a loaded plugin said about itself (copied out of the library).
struct PluginDescription {
    PluginFile file;
    unsigned api_version = 0;
    std::string version;
    std::string description;
};

// A plugin object together with the library that made it: the object is
// destroyed first, and the library stays mapped until the process exits
// (RTLD_NODELETE) so no exception or vtable can outlive its code.
template <class T>
class Plugin {
public:
    Plugin(boost::dll::shared_library library, std::unique_ptr<T> object, PluginDescription description)
        : library_(std::move(library)), object_(std::move(object)), description_(std::move(description)) {}
    T& operator*() const { return *object_; }
    T* operator->() const { return object_.get(); }
    const PluginDescription& description() const { return description_; }

private:
    boost::dll::shared_library library_;  // declared first: destroyed last
    std::unique_ptr<T> object_;
    PluginDescription description_;
};

// Where the runtime gets its plugins: PluginLoader below, or in a unit test
// scripted plugins that need no shared library.
class PluginSource {
public:
    virtual ~PluginSource() = default;
    // True when a plugin of this kind and name is there (nothing is loaded).
    virtual bool has(PluginKind kind, const std::string& name) const = 0;
    virtual Plugin<Backend> load_backend(const std::string& name, const PluginContext& context) const = 0;
    virtual Plugin<MappingStrategy> load_mapping(const std::string& name, const PluginContext& context) const = 0;
};

// Finds, checks and loads plugins. Directories are searched in order; the
// first file for a kind and name wins.
class PluginLoader final : public PluginSource {
public:
    // Warnings::on: a directory that is missing is a warning (a mistyped
    // --plugin-dir would otherwise only show as "unknown backend").
    enum class Warnings { on, off };
    explicit PluginLoader(std::vector<std::filesystem::path> directories, Warnings warnings = Warnings::on);

    // The built-in plugin directory next to the running binary.
    static std::filesystem::path default_directory();

    const std::vector<std::filesystem::path>& directories() const { return directories_; }

    // Every plugin file, without loading any.
    std::vector<PluginFile> discover() const;

    std::optional<PluginFile> find(PluginKind kind, const std::string& name) const;

    // Loads the plugin only to read its description (for `plugins`).
    PluginDescription describe(const PluginFile& file) const;

    // The plugin's copy built into this executable, when it has one and
    // `file` is that plugin in default_directory() (checked for owner and
    // mode as a loaded file is); nullptr otherwise (builtin_plugins.hpp).
    const builtin::Entry* builtin(const PluginFile& file) const;

    // The file checked (owner, mode, symbols, API) and loaded; the symbols
    // are read and the file loaded once per loader, the owner and mode each
    // time: `list` asks a backend about each of many containers.
    const boost::dll::shared_library& open(const PluginFile& file) const;

    bool has(PluginKind kind, const std::string& name) const override { return find(kind, name).has_value(); }
    Plugin<Backend> load_backend(const std::string& name, const PluginContext& context) const override;
    Plugin<MappingStrategy> load_mapping(const std::string& name, const PluginContext& context) const override;

private:
    std::vector<std::filesystem::path> directories_;
    mutable std::map<std::filesystem::path, boost::dll::shared_library> opened_;
};

}  // namespace lxcri
