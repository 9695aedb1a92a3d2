#include <lxcri/json_path.hpp>

#include <boost/json.hpp>

namespace lxcri {

std::string member_path(std::string_view parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    std::string path(parent);
    path += '.';
    path += key;
    return path;
}

std::string index_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string key_path(std::string_view parent, std::string_view key) {
    return std::string(parent) + "[" + boost::json::serialize(boost::json::string(key)) + "]";
}

}  // namespace lxcri
