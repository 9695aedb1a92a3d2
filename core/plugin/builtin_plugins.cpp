#include "plugin/builtin_plugins.hpp"

#include <string>
#include <vector>

namespace lxcri::builtin {
namespace {

// A function's static: registrars run during static initialization, in
// any order.
std::vector<Entry>& entries() {
    static std::vector<Entry> registered;
    return registered;
}

}  // namespace

Registrar::Registrar(const Entry& entry) { entries().push_back(entry); }

const Entry* find(PluginKind kind, std::string_view name) {
    for (const Entry& entry : entries())
        if (entry.info.kind == kind && entry.info.name == name) return &entry;
    return nullptr;
}

}  // namespace lxcri::builtin
