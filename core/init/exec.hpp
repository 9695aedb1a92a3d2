#pragma once

// Finding and executing process.args[0] as runc does (Go's exec.LookPath,
// then execve), with the messages and exit codes callers such as podman
// map: 127 for "not found" / "no such file", 126 for "permission denied".

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri::init {

// 0 when `path` may be executed, else an errno.
using ExecutableCheck = std::function<int(const std::string& path)>;

// A regular file the caller may execute: stat, then faccessat(AT_EACCESS),
// falling back to the mode bits where that is unavailable or filtered.
int check_executable(const std::string& path);

struct Lookup {
    std::string path;  // what to execve; set when error is 0
    int error = 0;
    bool searched = false;  // $PATH was searched (args[0] has no '/')
};

// A name with a '/' is checked as it is. Otherwise each $PATH entry in order
// ("" is the current directory); candidates that fail the check are passed
// over, and when none passes the error is ENOENT.
Lookup look_path(std::string_view file, std::string_view path_env, const ExecutableCheck& check);

struct ExecFailure {
    int exit_code = 1;
    std::string message;  // "exec: sh: executable file not found in $PATH"
};

ExecFailure exec_failure(std::string_view arg0, int error, bool searched);

// execve(path, args, environ); returns only on failure, with the errno.
int exec_program(const std::string& path, const std::vector<std::string>& args);

}  // namespace lxcri::init
