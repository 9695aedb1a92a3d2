#include <lxcri/error.hpp>

#include <cerrno>
#include <cstring>

namespace lxcri {

Error::~Error() = default;

std::string errno_message(std::string_view what, int err) {
    return std::string(what) + ": " + std::strerror(err);
}

void throw_errno(std::string_view what, int err, Errc code) {
    if (code == Errc::failed) {
        if (err == EACCES || err == EPERM)
            code = Errc::permission;
        else if (err == ENOENT)
            code = Errc::not_found;
    }
    throw Error(code, errno_message(what, err));
}

}  // namespace lxcri
