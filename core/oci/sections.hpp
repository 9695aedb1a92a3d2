#pragma once

// What the sections of the parser share (parser.cpp: ociVersion, root,
// mounts, hooks and the document; process.cpp; linux.cpp): the small
// checks, the generic shapes of a document, and each section's reader.
// Internal to core/oci.

#include "oci/json_reader.hpp"
#include "oci/spec_names.hpp"

#include <lxcri/container_spec.hpp>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lxcri::oci::detail {

// ---- small checks ------------------------------------------------------------

bool is_absolute(std::string_view path);

// A string as JSON writes it, quotes and escapes included.
std::string quote(std::string_view text);

// "must be one of a, b, c" for short closed sets, naming the value found.
std::string one_of(std::span<const std::string_view> names, std::string_view got);

// "NAME=value" with a non-empty NAME, as execve(2) callers expect.
bool is_env_entry(std::string_view entry);

// A cpuset list such as "0-3,7" (cpuset(7)); empty means unset.
bool is_cpu_list(std::string_view list);

// "2MB", "64KB", "1GB": <size><unit-prefix>B as the kernel names hugepage sizes.
bool is_page_size(std::string_view size);

template <class Enum, std::size_t N>
std::optional<Enum> enum_from(std::string_view name, const std::array<Enum, N>& all) {
    for (auto value : all)
        if (to_string(value) == name) return value;
    return std::nullopt;
}

inline constexpr std::array all_namespace_types = {
    NamespaceType::pid,  NamespaceType::network, NamespaceType::mount,  NamespaceType::ipc,
    NamespaceType::uts,  NamespaceType::user,    NamespaceType::cgroup, NamespaceType::time,
};

inline constexpr std::array all_seccomp_actions = {
    SeccompAction::kill,  SeccompAction::kill_process, SeccompAction::kill_thread,
    SeccompAction::trap,  SeccompAction::return_errno, SeccompAction::trace,
    SeccompAction::allow, SeccompAction::log,          SeccompAction::notify,
};

inline constexpr std::array all_seccomp_operators = {
    SeccompOperator::ne, SeccompOperator::lt, SeccompOperator::le,       SeccompOperator::eq,
    SeccompOperator::ge, SeccompOperator::gt, SeccompOperator::masked_eq,
};

// ---- generic shapes ------------------------------------------------------------

// Reads each element of the array member `key` that is an object with
// `read_one(Fields&)`; elements of another kind are reported and skipped.
template <class ReadOne>
auto read_objects(const Fields& parent, std::string_view key, ReadOne read_one) {
    using T = decltype(read_one(std::declval<Fields&>()));
    std::vector<T> out;
    const auto* array = parent.array(key);
    if (!array) return out;
    auto base = parent.path_of(key);
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto path = index_path(base, i);
        const auto* object = parent.problems().object((*array)[i], path);
        if (!object) continue;
        Fields fields(parent.problems(), *object, path);
        out.push_back(read_one(fields));
    }
    return out;
}

// The object member `key` read with `read_one`, or nullopt when absent.
template <class ReadOne>
auto read_object(const Fields& parent, std::string_view key, ReadOne read_one)
    -> std::optional<decltype(read_one(std::declval<Fields&>()))> {
    const auto* object = parent.object(key);
    if (!object) return std::nullopt;
    Fields fields(parent.problems(), *object, parent.path_of(key));
    return read_one(fields);
}

// A string array member whose entries must each pass `check`, which
// returns the problem text for a bad entry ("" when fine).
template <class Check>
void read_checked_strings(const Fields& fields, std::string_view key, std::vector<std::string>& out,
                          Check check) {
    if (!fields.read(key, out)) return;
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::string problem = check(out[i]);
        if (!problem.empty()) fields.problems().add(index_path(fields.path_of(key), i), problem);
    }
}

// The problem text for a relative path or a bad environment entry ("" when fine).
std::string check_absolute(const std::string& path);
std::string check_env(const std::string& entry);

// A string member that must be one of `names`; true when it is.
bool read_name(const Fields& fields, std::string_view key, std::string& out,
               std::span<const std::string_view> names, std::string_view what);

// ---- the sections --------------------------------------------------------------

Process read_process(Fields& f);                                                     // process.cpp
Linux read_linux(Fields& f);                                                         // linux.cpp
// uid/gid mappings of a user namespace or an idmapped mount (parser.cpp).
std::vector<IdMapping> read_id_mappings(const Fields& parent, std::string_view key);

}  // namespace lxcri::oci::detail
