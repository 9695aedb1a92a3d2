#include "image/store.hpp"

#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

namespace json = boost::json;

namespace lxcri::image {

void StorePaths::create() const {
    for (const auto& dir : {root, layout(), chains(), tmp()}) ensure_private_dir(dir);
}

std::map<std::string, PulledImage> read_pulled(const StorePaths& store) {
    std::map<std::string, PulledImage> images;
    json::value doc;
    try {
        doc = read_json_file(store.pulled());
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return images;
        throw;
    }
    auto damaged = [&](const std::string& why) {
        return Error(Errc::invalid_input, store.pulled().string() + ": " + why + " (pull the images again)");
    };
    const json::object* top = doc.if_object();
    const json::value* list = top ? top->if_contains("images") : nullptr;
    if (!list || !list->is_object()) throw damaged("no \"images\" object");
    for (const auto& member : list->get_object()) {
        // Not a structured binding: clang 14 cannot capture one in the lambda.
        const std::string key(member.key());
        const json::object* entry = member.value().if_object();
        auto text = [&](const char* name) -> std::string {
            const json::value* v = entry ? entry->if_contains(name) : nullptr;
            if (!v || !v->is_string()) throw damaged(key + ": no string \"" + name + "\"");
            return std::string(v->get_string());
        };
        PulledImage image{text("digest"), text("platform"), text("pulled")};
        if (!is_sha256_digest(image.manifest_digest)) throw damaged(key + ": bad digest");
        images.emplace(key, std::move(image));
    }
    return images;
}

void write_pulled(const StorePaths& store, const std::map<std::string, PulledImage>& images) {
    json::object list;
    for (const auto& [reference, image] : images)
        list[reference] = {{"digest", image.manifest_digest}, {"platform", image.platform}, {"pulled", image.pulled}};
    write_file_atomic(store.pulled(), to_pretty_json(json::object{{"version", 1}, {"images", std::move(list)}}), 0600);
}

}  // namespace lxcri::image
