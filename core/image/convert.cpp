#include "image/convert.hpp"

#include "bundle/fd_util.hpp"

#include <lxcri/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <limits>
#include <optional>
#include <sstream>

namespace json = boost::json;

namespace lxcri::image {
namespace {

constexpr size_t max_account_file = 8 << 20;

const json::object* container_config(const Image& image) {
    const json::value* c = image.config.if_contains("config");
    return c && c->is_object() ? &c->get_object() : nullptr;
}

std::string text(const json::object* object, std::string_view key) {
    const json::value* v = object ? object->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> strings(const json::object* object, std::string_view key) {
    std::vector<std::string> out;
    const json::value* v = object ? object->if_contains(key) : nullptr;
    if (v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_string()) out.emplace_back(item.get_string());
    return out;
}

std::vector<std::string> keys(const json::object* object, std::string_view key) {
    std::vector<std::string> out;
    const json::value* v = object ? object->if_contains(key) : nullptr;
    if (v && v->is_object())
        for (const auto& [k, value] : v->get_object()) out.emplace_back(k);
    std::sort(out.begin(), out.end());
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

std::optional<std::uint32_t> parse_id(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (value > std::numeric_limits<std::uint32_t>::max() - 1) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

// The lines of /etc/passwd or /etc/group as the container sees them; none
// when the file does not exist.
std::vector<std::vector<std::string>> account_file(int rootfs_fd, const char* path) {
    std::vector<std::vector<std::string>> rows;
    UniqueFd fd(bundle::open_in_root(rootfs_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return rows;
        throw_errno(std::string("image ") + path, errno, Errc::invalid_input);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(Errc::invalid_input, std::string("image ") + path + ": not a regular file");
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(std::string("read image ") + path, errno);
        if (n == 0) break;
        content.append(buffer, static_cast<size_t>(n));
        if (content.size() > max_account_file)
            throw Error(Errc::invalid_input, std::string("image ") + path + ": larger than 8 MiB");
    }
    std::istringstream in(content);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.front() == '#') continue;
        std::vector<std::string> fields;
        size_t start = 0;
        for (;;) {
            size_t end = line.find(':', start);
            fields.push_back(line.substr(start, end == std::string::npos ? end : end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

}  // namespace

bundle::ProcessUser resolve_user(std::string_view spec, int rootfs_fd) {
    const std::string what = "Config.User '" + std::string(spec) + "'";
    const size_t colon = spec.find(':');
    const std::string user(spec.substr(0, colon));
    const std::optional<std::string> group =
        colon == std::string_view::npos ? std::nullopt : std::optional<std::string>(spec.substr(colon + 1));
    if (user.empty() || (group && group->empty())) throw Error(Errc::invalid_input, what + ": want USER[:GROUP]");

    bundle::ProcessUser result;
    const auto passwd = account_file(rootfs_fd, "/etc/passwd");
    std::optional<std::uint32_t> passwd_gid;
    if (auto uid = parse_id(user)) {
        result.uid = *uid;
        for (const auto& row : passwd)
            if (row.size() >= 4 && parse_id(row[2]) == uid) {
                passwd_gid = parse_id(row[3]);
                break;
            }
    } else {
        auto it = std::find_if(passwd.begin(), passwd.end(), [&](const auto& row) { return row.size() >= 4 && row[0] == user; });
        if (it == passwd.end()) throw Error(Errc::invalid_input, what + ": no user '" + user + "' in the image's /etc/passwd");
        auto named_uid = parse_id((*it)[2]);
        passwd_gid = parse_id((*it)[3]);
        if (!named_uid || !passwd_gid) throw Error(Errc::invalid_input, what + ": the image's /etc/passwd entry is malformed");
        result.uid = *named_uid;
    }
    result.gid = passwd_gid.value_or(0);  // a uid without an entry: group 0, as runc

    if (group) {
        if (auto gid = parse_id(*group)) {
            result.gid = *gid;
        } else {
            const auto groups = account_file(rootfs_fd, "/etc/group");
            auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& row) { return row.size() >= 3 && row[0] == *group; });
            if (it == groups.end()) throw Error(Errc::invalid_input, what + ": no group '" + *group + "' in the image's /etc/group");
            auto named_gid = parse_id((*it)[2]);
            if (!named_gid) throw Error(Errc::invalid_input, what + ": the image's /etc/group entry is malformed");
            result.gid = *named_gid;
        }
        return result;
    }
    if (parse_id(user)) return result;
    // A user name alone: its supplementary groups too.
    for (const auto& row : account_file(rootfs_fd, "/etc/group")) {
        if (row.size() < 4) continue;
        std::istringstream members(row[3]);
        for (std::string member; std::getline(members, member, ',');) {
            if (member != user) continue;
            auto gid = parse_id(row[2]);
            if (gid && *gid != result.gid &&
                std::find(result.additional_gids.begin(), result.additional_gids.end(), *gid) == result.additional_gids.end())
                result.additional_gids.push_back(*gid);
        }
    }
    return result;
}

bundle::ImageDefaults image_defaults(const Image& image, int rootfs_fd) {
    bundle::ImageDefaults defaults;
    const json::object* c = container_config(image);
    defaults.entrypoint = strings(c, "Entrypoint");
    defaults.cmd = strings(c, "Cmd");
    for (auto& entry : strings(c, "Env")) {
        if (entry.find('=') == std::string::npos || entry.front() == '=')
            throw Error(Errc::invalid_input, "Config.Env '" + entry + "': want KEY=VALUE");
        defaults.env.push_back(std::move(entry));
    }
    if (std::string dir = text(c, "WorkingDir"); !dir.empty()) {
        if (dir.front() != '/') throw Error(Errc::invalid_input, "Config.WorkingDir '" + dir + "': must be absolute");
        defaults.cwd = dir;
    }
    if (std::string user = text(c, "User"); !user.empty()) defaults.user = resolve_user(user, rootfs_fd);

    // conversion.md: the implicit annotations, then Labels over them.
    std::vector<std::pair<std::string, std::string>> implicit;
    auto add = [&](const char* key, const std::string& value) {
        if (!value.empty()) implicit.emplace_back(key, value);
    };
    add("org.opencontainers.image.os", text(&image.config, "os"));
    add("org.opencontainers.image.architecture", text(&image.config, "architecture"));
    add("org.opencontainers.image.variant", text(&image.config, "variant"));
    add("org.opencontainers.image.os.version", text(&image.config, "os.version"));
    add("org.opencontainers.image.os.features", joined(strings(&image.config, "os.features")));
    add("org.opencontainers.image.author", text(&image.config, "author"));
    add("org.opencontainers.image.created", text(&image.config, "created"));
    add("org.opencontainers.image.stopSignal", text(c, "StopSignal"));
    add("org.opencontainers.image.exposedPorts", joined(keys(c, "ExposedPorts")));
    const json::value* labels = c ? c->if_contains("Labels") : nullptr;
    for (auto& [key, value] : implicit)
        if (!labels || !labels->is_object() || !labels->get_object().contains(key))
            defaults.annotations.emplace_back(std::move(key), std::move(value));
    if (labels && labels->is_object())
        for (const auto& [key, value] : labels->get_object())
            if (value.is_string()) defaults.annotations.emplace_back(std::string(key), std::string(value.get_string()));
    // Ours last: a label cannot change what we record the container runs.
    if (std::string volumes = joined(keys(c, "Volumes")); !volumes.empty())
        defaults.annotations.emplace_back(image_volumes_annotation, volumes);
    defaults.annotations.emplace_back(image_reference_annotation, image.reference);
    defaults.annotations.emplace_back(image_digest_annotation, image.manifest_digest);
    return defaults;
}

void make_volume_dirs(const Image& image, int rootfs_fd) {
    for (const auto& volume : keys(container_config(image), "Volumes")) {
        const std::string what = "Config.Volumes '" + volume + "'";
        if (volume.empty() || volume.front() != '/') throw Error(Errc::invalid_input, what + ": must be absolute");
        std::string prefix;
        size_t start = 1;
        while (start <= volume.size()) {
            size_t end = volume.find('/', start);
            if (end == std::string::npos) end = volume.size();
            const std::string component = volume.substr(start, end - start);
            start = end + 1;
            if (component.empty() || component == ".") continue;
            const std::string parent = prefix.empty() ? "/" : prefix;
            prefix += "/" + component;
            UniqueFd existing(bundle::open_in_root(rootfs_fd, prefix, O_PATH | O_DIRECTORY));
            if (existing) continue;
            if (errno == ENOTDIR) throw Error(Errc::invalid_input, what + ": " + prefix + " is not a directory");
            if (errno != ENOENT) throw_errno(what + ": open " + prefix, errno);
            UniqueFd parent_fd(bundle::open_in_root(rootfs_fd, parent, O_PATH | O_DIRECTORY));
            if (!parent_fd) throw_errno(what + ": open " + parent, errno);
            if (::mkdirat(parent_fd.get(), component.c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno(what + ": create " + prefix, errno);
            // A dangling symlink there: mkdirat gives EEXIST; open_in_root then fails below.
            UniqueFd made(bundle::open_in_root(rootfs_fd, prefix, O_RDONLY | O_DIRECTORY));
            if (!made) throw_errno(what + ": open " + prefix, errno, Errc::invalid_input);
            ::fchmod(made.get(), 0755);
        }
    }
}

}  // namespace lxcri::image
