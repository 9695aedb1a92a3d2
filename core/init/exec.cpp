#include "init/exec.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <cstring>

namespace lxcri::init {

int check_executable(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0) return 0;
    int err = errno;
    // ENOSYS: no faccessat2; EPERM: a seccomp filter. Go falls back the same way.
    if (err != ENOSYS && err != EPERM) return err;
    return (st.st_mode & 0111) ? 0 : EACCES;
}

Lookup look_path(std::string_view file, std::string_view path_env, const ExecutableCheck& check) {
    if (file.find('/') != std::string_view::npos) {
        std::string path(file);
        int error = check(path);
        return {error ? std::string() : path, error, false};
    }
    // As Go's filepath.SplitList: "" has no entries, "a:" has "a" and "".
    for (std::size_t start = 0; !path_env.empty();) {
        auto colon = path_env.find(':', start);
        std::string_view dir = path_env.substr(start, colon == std::string_view::npos ? colon : colon - start);
        std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(file);
        if (check(candidate) == 0) return {candidate, 0, true};
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    return {std::string(), ENOENT, true};
}

ExecFailure exec_failure(std::string_view arg0, int error, bool searched) {
    std::string prefix = "exec: " + std::string(arg0) + ": ";
    if (searched && error == ENOENT) return {127, prefix + "executable file not found in $PATH"};
    if (error == ENOENT || error == ENOTDIR) return {127, prefix + "no such file or directory"};
    if (error == EACCES || error == EPERM) return {126, prefix + "permission denied"};
    // Go's wording: strerror in lower case ("exec format error", "is a directory").
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return {126, prefix + text};
}

int exec_program(const std::string& path, const std::vector<std::string>& args) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), environ);
    return errno;
}

}  // namespace lxcri::init
