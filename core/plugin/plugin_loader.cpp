#include "plugin/plugin_loader.hpp"
#include "plugin/builtin_plugins.hpp"
#include "plugin/plugin_host.hpp"

#include "util/fs.hpp"

#include <lxcri/log.hpp>

#include <boost/dll/library_info.hpp>

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <type_traits>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

constexpr const char* section = "lxcri";

std::string factory_symbol(PluginKind kind) {
    return kind == PluginKind::backend ? "lxcri_create_backend" : "lxcri_create_mapping";
}

// Loading a plugin runs its code: only root or we may be able to change it.
void check_not_writable_by_others(const fs::path& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_errno("plugin " + path.string(), errno, Errc::plugin);
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw Error(Errc::plugin, "refusing plugin " + what + ": " + path.string() + " is owned by uid " +
                                      std::to_string(st.st_uid) + ", not by root or the current user");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw Error(Errc::plugin, "refusing plugin " + what + ": " + path.string() +
                                      " is writable by group or others (chmod go-w)");
}

// Reads the "lxcri" section without loading the file: it must carry the
// entry points for its kind and the marker of our API version.
void check_symbols(const PluginFile& file) {
    std::vector<std::string> symbols;
    try {
        boost::dll::library_info info(file.path.string());
        symbols = info.symbols(section);
    } catch (const std::exception& e) {
        // Boost.DLL's reasons name its stream internals, not the file.
        log::debug("plugin " + file.path.string() + ": boost::dll::library_info: " + e.what());
        throw Error(Errc::plugin, "plugin " + file.path.string() +
                                      " is not a loadable shared library: not an ELF file for this machine, or "
                                      "truncated or damaged (rebuild or reinstall it)");
    }
    auto has = [&](const std::string& s) { return std::find(symbols.begin(), symbols.end(), s) != symbols.end(); };
    if (!has("lxcri_plugin_info") || !has(factory_symbol(file.kind)))
        throw Error(Errc::plugin, "plugin " + file.path.string() + " is not a proxmox-lxcri " +
                                      std::string(to_string(file.kind)) + " plugin (no " + factory_symbol(file.kind) +
                                      " in section '" + section + "')");
    const std::string marker = "lxcri_api_v" + std::to_string(plugin_api_version);
    if (!has(marker)) {
        std::string found = "an unknown";
        for (const auto& s : symbols)
            if (s.rfind("lxcri_api_v", 0) == 0) found = s.substr(std::string("lxcri_api_v").size());
        throw Error(Errc::plugin, "plugin " + file.path.string() + " was built for plugin API " + found +
                                      ", this proxmox-lxcri provides API " + std::to_string(plugin_api_version) +
                                      ": rebuild the plugin against this SDK");
    }
}

boost::dll::shared_library open_library(const PluginFile& file) {
    check_not_writable_by_others(file.path.parent_path(), "directory");
    check_not_writable_by_others(file.path, "file");
    check_symbols(file);
    auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    try {
        return boost::dll::shared_library(file.path.string(), mode);
    } catch (const std::exception& e) {
        throw Error(Errc::plugin, "cannot load plugin " + file.path.string() + ": " + e.what());
    }
}

PluginDescription read_description(const boost::dll::shared_library& library, const PluginFile& file) {
    auto info = library.get_alias<PluginInfo()>("lxcri_plugin_info")();
    if (info.api_version != plugin_api_version)
        throw Error(Errc::plugin, "plugin " + file.path.string() + " reports plugin API " +
                                      std::to_string(info.api_version) + ", this proxmox-lxcri provides API " +
                                      std::to_string(plugin_api_version));
    if (info.kind != file.kind || !info.name || info.name != file.name)
        throw Error(Errc::plugin, "plugin " + file.path.string() + " says it is the " +
                                      std::string(to_string(info.kind)) + " '" + (info.name ? info.name : "") +
                                      "', which does not match its file name");
    return PluginDescription{file, info.api_version, info.version ? info.version : "",
                             info.description ? info.description : ""};
}

template <class T>
Plugin<T> load(const PluginLoader& loader, PluginKind kind, const std::string& name, const PluginContext& context) {
    auto file = loader.find(kind, name);
    if (!file) {
        std::string dirs;
        for (const auto& d : loader.directories()) dirs += (dirs.empty() ? "" : ", ") + d.string();
        throw Error(Errc::plugin, "unknown " + std::string(to_string(kind)) + " '" + name + "': no lxcri-" +
                                      std::string(to_string(kind)) + "-" + name + ".so in " + dirs +
                                      " (see `proxmox-lxcri plugins`)");
    }
    auto make = [&](auto factory) {
        try {
            return factory(context);
        } catch (const Error& e) {
            throw e.with_context(std::string(to_string(kind)) + " " + name);
        }
    };
    if (const builtin::Entry* entry = loader.builtin(*file)) {
        std::unique_ptr<T> object;
        if constexpr (std::is_same_v<T, Backend>) {
            if (entry->create_backend) object = make(entry->create_backend);
        } else if (entry->create_mapping) {
            object = make(entry->create_mapping);
        }
        if (!object) throw Error(Errc::plugin, "built-in plugin " + file->path.string() + " returned no object");
        PluginDescription description{*file, entry->info.api_version, entry->info.version, entry->info.description};
        return Plugin<T>(boost::dll::shared_library(), std::move(object), std::move(description));
    }
    const boost::dll::shared_library& library = loader.open(*file);
    auto description = read_description(library, *file);
    std::unique_ptr<T> object =
        make(library.get_alias<std::unique_ptr<T>(const PluginContext&)>(factory_symbol(kind)));
    if (!object) throw Error(Errc::plugin, "plugin " + file->path.string() + " returned no object");
    return Plugin<T>(library, std::move(object), std::move(description));
}

}  // namespace

std::string_view to_string(PluginKind kind) { return kind == PluginKind::backend ? "backend" : "mapping"; }

PluginLoader::PluginLoader(std::vector<fs::path> directories, Warnings warnings)
    : directories_(std::move(directories)) {
    if (warnings == Warnings::off) return;
    for (const auto& dir : directories_) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            log::warning("plugin directory " + dir.string() + (ec && ec != std::errc::no_such_file_or_directory
                                                                   ? ": " + ec.message()
                                                                   : std::string(" does not exist")));
    }
}

fs::path PluginLoader::default_directory() { return program_relative_dir(LXCRI_PLUGIN_RELDIRS); }

std::vector<PluginFile> PluginLoader::discover() const {
    static const std::regex pattern("^lxcri-(backend|mapping)-([a-z0-9][a-z0-9_-]*)\\.so$");
    std::vector<PluginFile> found;
    for (const auto& dir : directories_) {
        std::error_code ec;
        std::vector<PluginFile> here;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            std::smatch m;
            std::string filename = it->path().filename().string();
            if (!std::regex_match(filename, m, pattern)) continue;
            PluginKind kind = m[1] == "backend" ? PluginKind::backend : PluginKind::mapping;
            bool shadowed = std::any_of(found.begin(), found.end(),
                                        [&](const PluginFile& f) { return f.kind == kind && f.name == m[2]; });
            if (!shadowed) here.push_back({it->path(), kind, m[2]});
        }
        std::sort(here.begin(), here.end(), [](const PluginFile& a, const PluginFile& b) {
            return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
        });
        found.insert(found.end(), here.begin(), here.end());
    }
    return found;
}

std::optional<PluginFile> PluginLoader::find(PluginKind kind, const std::string& name) const {
    std::string filename = "lxcri-" + std::string(to_string(kind)) + "-" + name + ".so";
    for (const auto& dir : directories_) {
        std::error_code ec;
        if (fs::exists(dir / filename, ec)) return PluginFile{dir / filename, kind, name};
    }
    return std::nullopt;
}

PluginDescription PluginLoader::describe(const PluginFile& file) const {
    return read_description(open(file), file);
}

const builtin::Entry* PluginLoader::builtin(const PluginFile& file) const {
    if (!builtin::has(file.kind, file.name)) return nullptr;  // the host has none
    std::error_code ec;
    if (!fs::equivalent(file.path.parent_path(), default_directory(), ec)) return nullptr;
    // The file stands for its code: refused as a loaded one would be.
    check_not_writable_by_others(file.path.parent_path(), "directory");
    check_not_writable_by_others(file.path, "file");
    return builtin::find(file.kind, file.name, builtin::read_build_id(file.path));
}

const boost::dll::shared_library& PluginLoader::open(const PluginFile& file) const {
    if (plugin_host::plugins_delegated()) throw plugin_host::Needed{};
    auto it = opened_.find(file.path);
    if (it == opened_.end()) return opened_.emplace(file.path, open_library(file)).first->second;
    // Owner and mode are looked at every time (two stats); the ELF read and
    // the dlopen are not repeated.
    check_not_writable_by_others(file.path.parent_path(), "directory");
    check_not_writable_by_others(file.path, "file");
    return it->second;
}

Plugin<Backend> PluginLoader::load_backend(const std::string& name, const PluginContext& context) const {
    return load<Backend>(*this, PluginKind::backend, name, context);
}

Plugin<MappingStrategy> PluginLoader::load_mapping(const std::string& name, const PluginContext& context) const {
    return load<MappingStrategy>(*this, PluginKind::mapping, name, context);
}

}  // namespace lxcri
