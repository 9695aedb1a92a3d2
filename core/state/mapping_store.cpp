#include "state/mapping_store.hpp"

#include "util/json.hpp"

#include <lxcri/error.hpp>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri {
namespace {

constexpr std::int64_t format_version = 1;

Mapping load(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return {};
    json::value document = read_json_file(file);
    Mapping mapping;
    try {
        const auto& object = document.as_object();
        auto version = object.at("version").to_number<std::int64_t>();
        if (version != format_version)
            throw Error(Errc::failed, file.string() + ": format version " + std::to_string(version) +
                                          " is not supported (expected " + std::to_string(format_version) + ")");
        for (const auto& [id, value] : object.at("containers").as_object()) {
            const auto& entry = value.as_object();
            MappingEntry e;
            e.vmid = static_cast<Vmid>(entry.at("vmid").to_number<std::int64_t>());
            e.backend = json::value_to<std::string>(entry.at("backend"));
            if (auto* created = entry.if_contains("created")) e.created = json::value_to<std::string>(*created);
            mapping.emplace(std::string(id), std::move(e));
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(Errc::failed, file.string() + ": damaged mapping file: " + e.what());
    }
    return mapping;
}

std::string dump(const Mapping& mapping) {
    json::object containers;
    for (const auto& [id, entry] : mapping)
        containers[id] = json::object{{"vmid", entry.vmid}, {"backend", entry.backend}, {"created", entry.created}};
    return to_pretty_json(json::object{{"version", format_version}, {"containers", std::move(containers)}});
}

}  // namespace

MappingStore::MappingStore(fs::path state_dir)
    : state_dir_(std::move(state_dir)), file_(state_dir_ / "mapping.json") {}

MappingStore::Transaction::Transaction(const MappingStore& store)
    : store_(store), lock_((ensure_private_dir(store.state_dir_), store.state_dir_ / "mapping.lock")),
      entries_(load(store.file_)), original_(entries_) {}

void MappingStore::Transaction::commit() {
    if (entries_ == original_) return;
    write_file_atomic(store_.file_, dump(entries_));
    original_ = entries_;
}

MappingStore::Transaction MappingStore::begin() const { return Transaction(*this); }

Mapping MappingStore::read() const { return load(file_); }

}  // namespace lxcri
