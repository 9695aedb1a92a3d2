// A backend built as if against a future SDK (plugin API 999): the core must
// refuse it with a clear message, before running any of its code.
#include <lxcri/lxcri.hpp>

#undef LXCRI_PLUGIN_API_VERSION
#define LXCRI_PLUGIN_API_VERSION 999

namespace {

class FutureBackend final : public lxcri::Backend {
public:
    explicit FutureBackend(const lxcri::PluginContext&) {}
    std::set<lxcri::Vmid> vmids_in_use() override { return {}; }
    lxcri::CreateResult create(const lxcri::CreateRequest&) override { return {}; }
    void start(const lxcri::ContainerRef&) override {}
    lxcri::ContainerStatus state(const lxcri::ContainerRef&) override { return {}; }
    void kill(const lxcri::ContainerRef&, int, bool) override {}
    void remove(const lxcri::ContainerRef&, bool) override {}
};

}  // namespace

LXCRI_BACKEND_PLUGIN(FutureBackend, "badapi", "9.9.9", "built for plugin API 999")
