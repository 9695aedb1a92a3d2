#include "image/reference.hpp"

#include "util/fs.hpp"

#include <lxcri/error.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace lxcri::image {
namespace {

[[noreturn]] void bad_reference(std::string_view text, const std::string& why) {
    throw Error(Errc::invalid_input, "image reference '" + std::string(text) + "': " + why);
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A path component of a repository: lowercase alphanumerics separated by
// ".", "_", "__" or dashes (docker's reference grammar).
bool valid_path_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    for (size_t i = 0; i < c.size(); ++i) {
        if (is_lower_alnum(c[i])) continue;
        if (c[i] == '.' || c[i] == '-') {
            if (c[i] == '.' && !is_lower_alnum(c[i + 1])) return false;
            continue;
        }
        if (c[i] == '_') {
            if (c[i + 1] == '_') ++i;
            if (!is_lower_alnum(c[i + 1])) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool valid_domain(std::string_view d) {
    if (d.empty() || !(std::isalnum(static_cast<unsigned char>(d.front())) || d.front() == '[')) return false;
    return std::all_of(d.begin(), d.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128 || t.front() == '.' || t.front() == '-') return false;
    return std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

// An OCI layout's ref.name (image-layout.md): components of alphanumerics
// joined by "-._:@+" or "--", separated by "/".
bool valid_ref_name(std::string_view t) {
    if (t.empty()) return false;
    return std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._:@+/").find(c) != std::string_view::npos;
    });
}

Reference parse_docker(std::string_view text, std::string_view body) {
    Reference ref;
    ref.transport = Transport::docker;
    if (body.starts_with("//")) body.remove_prefix(2);
    if (body.empty()) bad_reference(text, "no repository after docker://");
    std::string_view name = body;
    if (size_t at = body.find('@'); at != std::string_view::npos) {
        ref.digest = std::string(body.substr(at + 1));
        if (!is_sha256_digest(ref.digest)) bad_reference(text, "the digest must be sha256: and 64 lowercase hex digits");
        name = body.substr(0, at);
    }
    const size_t last_slash = name.rfind('/');
    if (size_t colon = name.rfind(':'); colon != std::string_view::npos &&
                                        (last_slash == std::string_view::npos || colon > last_slash)) {
        ref.tag = std::string(name.substr(colon + 1));
        if (!valid_tag(ref.tag)) bad_reference(text, "'" + ref.tag + "' is not a valid tag");
        name = name.substr(0, colon);
    }
    std::string domain = "docker.io";
    std::string_view path = name;
    if (size_t slash = name.find('/'); slash != std::string_view::npos) {
        std::string_view first = name.substr(0, slash);
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
            domain = std::string(first);
            path = name.substr(slash + 1);
        }
    }
    if (!valid_domain(domain)) bad_reference(text, "'" + domain + "' is not a registry host");
    std::string full_path(path);
    if (domain == "docker.io" && full_path.find('/') == std::string::npos) full_path = "library/" + full_path;
    size_t start = 0;
    for (;;) {
        size_t end = full_path.find('/', start);
        std::string_view component = std::string_view(full_path).substr(start, end == std::string::npos ? end : end - start);
        if (!valid_path_component(component))
            bad_reference(text, "'" + std::string(component) +
                                    "' is not a valid repository name component (lowercase letters, digits, "
                                    "and . _ - between them)");
        if (end == std::string::npos) break;
        start = end + 1;
    }
    ref.repository = domain + "/" + full_path;
    if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
    return ref;
}

}  // namespace

bool is_sha256_digest(std::string_view digest) {
    constexpr std::string_view prefix = "sha256:";
    if (!digest.starts_with(prefix) || digest.size() != prefix.size() + 64) return false;
    return std::all_of(digest.begin() + prefix.size(), digest.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void check_digest(std::string_view digest, const std::string& what) {
    if (is_sha256_digest(digest)) return;
    if (digest.starts_with("sha512:") || digest.starts_with("sha384:"))
        throw Error(Errc::invalid_input, what + ": digest '" + std::string(digest) +
                                             "': only sha256 digests are supported");
    throw Error(Errc::invalid_input, what + ": '" + std::string(digest) + "' is not a sha256 digest");
}

std::string Reference::canonical() const {
    if (transport != Transport::docker) {
        const char* name = transport == Transport::oci           ? "oci:"
                           : transport == Transport::oci_archive ? "oci-archive:"
                                                                 : "docker-archive:";
        return name + absolute_path(path).string() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
    }
    std::string out = "docker://" + repository;
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

Reference parse_reference(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos)
        bad_reference(text, "want oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE or docker://NAME[:TAG]");
    const std::string_view transport = text.substr(0, colon);
    std::string_view body = text.substr(colon + 1);
    Reference ref;
    if (transport == "docker") {
        ref = parse_docker(text, body);
        ref.text = std::string(text);
        return ref;
    }
    if (transport == "oci")
        ref.transport = Transport::oci;
    else if (transport == "oci-archive")
        ref.transport = Transport::oci_archive;
    else if (transport == "docker-archive")
        ref.transport = Transport::docker_archive;
    else
        bad_reference(text, "unknown transport '" + std::string(transport) +
                                "' (oci, oci-archive, docker-archive, docker)");
    ref.text = std::string(text);
    // As skopeo: the path ends at the first ':' (a digest at '@sha256:').
    std::string_view path = body;
    if (size_t at = body.find("@sha"); ref.transport == Transport::oci && at != std::string_view::npos) {
        ref.digest = std::string(body.substr(at + 1));
        check_digest(ref.digest, "image reference '" + std::string(text) + "'");
        path = body.substr(0, at);
    } else if (size_t c = body.find(':'); c != std::string_view::npos) {
        ref.tag = std::string(body.substr(c + 1));
        path = body.substr(0, c);
        if (!valid_ref_name(ref.tag)) bad_reference(text, "'" + ref.tag + "' is not a valid tag");
    }
    if (path.empty()) bad_reference(text, "no path");
    ref.path = path;
    return ref;
}

std::string Platform::to_string() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Platform parse_platform(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find('/', start);
        parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    const bool well_formed = (parts.size() == 2 || parts.size() == 3) &&
                             std::none_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); });
    if (!well_formed)
        throw Error(Errc::invalid_input, "--platform '" + std::string(text) + "': want OS/ARCH[/VARIANT], e.g. linux/arm64");
    return Platform{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
}

Platform host_platform() {
    struct utsname uts {};
    ::uname(&uts);
    const std::string machine = uts.machine;
    if (machine == "x86_64") return {"linux", "amd64", ""};
    if (machine == "aarch64" || machine == "arm64") return {"linux", "arm64", "v8"};
    if (machine == "armv7l" || machine == "armv7") return {"linux", "arm", "v7"};
    if (machine == "armv6l") return {"linux", "arm", "v6"};
    if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") return {"linux", "386", ""};
    if (machine == "ppc64le") return {"linux", "ppc64le", ""};
    if (machine == "s390x") return {"linux", "s390x", ""};
    if (machine == "riscv64") return {"linux", "riscv64", ""};
    return {"linux", machine, ""};
}

bool platform_matches(const Platform& wanted, const Platform& offered) {
    if (wanted.os != offered.os || wanted.architecture != offered.architecture) return false;
    if (wanted.variant.empty() || wanted.variant == offered.variant) return true;
    return wanted.architecture == "arm64" && wanted.variant == "v8" && offered.variant.empty();
}

}  // namespace lxcri::image
