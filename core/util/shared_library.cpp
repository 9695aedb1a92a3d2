#include <lxcri/error.hpp>
#include <lxcri/shared_library.hpp>

#include <dlfcn.h>

namespace lxcri {

SharedLibrary::SharedLibrary(std::string soname)
    : soname_(std::move(soname)), handle_(::dlopen(soname_.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)) {
    if (!handle_) throw Error(Errc::failed, "cannot load " + soname_ + ": " + ::dlerror());
}

void* SharedLibrary::symbol(const char* name) const {
    void* address = ::dlsym(handle_, name);
    if (!address) throw Error(Errc::failed, soname_ + " has no " + name);
    return address;
}

}  // namespace lxcri
