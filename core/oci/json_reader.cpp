#include "oci/json_reader.hpp"

namespace json = boost::json;

namespace lxcri::oci::detail {

const json::object* Problems::object(const json::value& value, const std::string& path) {
    if (const auto* object = value.if_object()) return object;
    add(path, "must be an object");
    return nullptr;
}

const json::array* Problems::array(const json::value& value, const std::string& path) {
    if (const auto* array = value.if_array()) return array;
    add(path, "must be an array");
    return nullptr;
}

std::optional<std::string> Problems::string(const json::value& value, const std::string& path) {
    if (const auto* string = value.if_string()) return std::string(*string);
    add(path, "must be a string");
    return std::nullopt;
}

std::optional<bool> Problems::boolean(const json::value& value, const std::string& path) {
    if (const auto* boolean = value.if_bool()) return *boolean;
    add(path, "must be a boolean");
    return std::nullopt;
}

const json::value* Fields::find(std::string_view key) const {
    const auto* value = object_.if_contains(key);
    return value && !value->is_null() ? value : nullptr;
}

bool Fields::require(std::string_view key) const {
    if (has(key)) return true;
    problems_.add(path_of(key), "is required");
    return false;
}

bool Fields::read(std::string_view key, std::string& out) const {
    const auto* value = find(key);
    if (!value) return false;
    auto got = problems_.string(*value, path_of(key));
    if (got) out = std::move(*got);
    return got.has_value();
}

bool Fields::read(std::string_view key, bool& out) const {
    const auto* value = find(key);
    if (!value) return false;
    auto got = problems_.boolean(*value, path_of(key));
    if (got) out = *got;
    return got.has_value();
}

bool Fields::read(std::string_view key, std::optional<bool>& out) const {
    bool value = false;
    if (!read(key, value)) return false;
    out = value;
    return true;
}

bool Fields::read(std::string_view key, std::vector<std::string>& out) const {
    const auto* array = this->array(key);
    if (!array) return false;
    bool ok = true;
    std::vector<std::string> result;
    result.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto got = problems_.string((*array)[i], index_path(path_of(key), i));
        if (got)
            result.push_back(std::move(*got));
        else
            ok = false;
    }
    if (ok) out = std::move(result);
    return ok;
}

bool Fields::read(std::string_view key, std::map<std::string, std::string>& out) const {
    const auto* object = this->object(key);
    if (!object) return false;
    bool ok = true;
    std::map<std::string, std::string> result;
    for (const auto& member : *object) {
        if (member.key().empty()) {
            problems_.add(path_of(key), "keys must not be empty");
            ok = false;
            continue;
        }
        auto got = problems_.string(member.value(), key_path(path_of(key), member.key()));
        if (got)
            result.emplace(std::string(member.key()), std::move(*got));
        else
            ok = false;
    }
    if (ok) out = std::move(result);
    return ok;
}

const json::object* Fields::object(std::string_view key) const {
    const auto* value = find(key);
    return value ? problems_.object(*value, path_of(key)) : nullptr;
}

const json::array* Fields::array(std::string_view key) const {
    const auto* value = find(key);
    return value ? problems_.array(*value, path_of(key)) : nullptr;
}

}  // namespace lxcri::oci::detail
