#include "plugin/builtin_plugins.hpp"

#include <lxcri/unique_fd.hpp>

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lxcri::builtin {
namespace {

// A function's statics: registrars run during static initialization, in
// any order.
std::vector<Entry>& entries() {
    static std::vector<Entry> registered;
    return registered;
}

std::map<std::pair<PluginKind, std::string>, std::string>& build_ids() {
    static std::map<std::pair<PluginKind, std::string>, std::string> registered;
    return registered;
}

const Entry* registered(PluginKind kind, std::string_view name) {
    for (const Entry& entry : entries())
        if (entry.info.kind == kind && entry.info.name == name) return &entry;
    return nullptr;
}

bool read_at(int fd, void* buffer, std::size_t size, off_t offset) {
    return ::pread(fd, buffer, size, offset) == static_cast<ssize_t>(size);
}

}  // namespace

Registrar::Registrar(const Entry& entry) { entries().push_back(entry); }

BuildId::BuildId(PluginKind kind, const char* name, const char* hex) { build_ids()[{kind, name}] = hex; }

bool has(PluginKind kind, std::string_view name) { return registered(kind, name) != nullptr; }

const Entry* find(PluginKind kind, std::string_view name, std::string_view file_build_id) {
    auto id = build_ids().find({kind, std::string(name)});
    if (id == build_ids().end() || id->second.empty() || id->second != file_build_id) return nullptr;
    return registered(kind, name);
}

std::string read_build_id(const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    Elf64_Ehdr header{};
    if (!fd || !read_at(fd.get(), &header, sizeof header, 0) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > 64)
        return {};
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment{};
        if (!read_at(fd.get(), &segment, sizeof segment, static_cast<off_t>(header.e_phoff + i * sizeof segment)))
            return {};
        if (segment.p_type != PT_NOTE || segment.p_filesz > 4096) continue;
        std::vector<unsigned char> notes(segment.p_filesz);
        if (!read_at(fd.get(), notes.data(), notes.size(), static_cast<off_t>(segment.p_offset))) return {};
        // Each note: its header, the name and the descriptor, each padded to 4 bytes.
        for (std::size_t at = 0; at + sizeof(Elf64_Nhdr) <= notes.size();) {
            Elf64_Nhdr note{};
            std::memcpy(&note, notes.data() + at, sizeof note);
            std::size_t name_at = at + sizeof note, desc_at = name_at + ((note.n_namesz + 3) & ~3u);
            std::size_t next = desc_at + ((note.n_descsz + 3) & ~3u);
            if (next > notes.size()) break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(notes.data() + name_at, "GNU", 4) == 0) {
                static const char digits[] = "0123456789abcdef";
                std::string hex;
                for (std::size_t k = 0; k < note.n_descsz; ++k) {
                    hex += digits[notes[desc_at + k] >> 4];
                    hex += digits[notes[desc_at + k] & 15];
                }
                return hex;
            }
            at = next;
        }
    }
    return {};
}

}  // namespace lxcri::builtin
