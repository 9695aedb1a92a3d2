#pragma once

// A shared library opened when first needed instead of linked, so that the
// commands that never call it do not load it at start-up
// (docs/PERFORMANCE.md): the core's libarchive, the lxc backend's liblxc.

#include <string>

namespace lxcri {

class SharedLibrary {
public:
    // dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE): never unloaded, as such
    // libraries keep state (logs, signal handlers) for the process's life.
    // Error with dlerror()'s reason when it cannot be loaded.
    explicit SharedLibrary(std::string soname);

    // Sets `function` to the library's `name`; Error when it has none.
    template <typename Function>
    void bind(const char* name, Function& function) const {
        function = reinterpret_cast<Function>(symbol(name));
    }

private:
    void* symbol(const char* name) const;

    std::string soname_;
    void* handle_ = nullptr;
};

}  // namespace lxcri
