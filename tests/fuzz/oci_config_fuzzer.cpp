// config.json: the parser and checker (core/oci), bundle validation, and
// the OCI-to-LXC translation of every accepted spec for the lxc backend's
// target with cgroup v1 and v2 and for pct's (pct_target_policy), with the
// pct plan. Seeds: tests/fixtures (config.json files).

#include "fuzz_support.hpp"

#include "bundle/validator.hpp"
#include "oci/parser.hpp"
#include "util/json.hpp"

#include "pct_plan.hpp"  // plugins/backend-pct

#include <lxcri/lxc_config.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace lxcri;

namespace {

// A bundle with a rootfs and a bind source, for the translation's host checks.
const fs::path& bundle_dir() {
    static const fs::path dir = [] {
        fs::path bundle = fuzz::scratch_dir() / "bundle";
        fs::create_directories(bundle / "rootfs" / "etc");
        fs::create_directories(bundle / "data");
        return bundle;
    }();
    return dir;
}

void translate_all(const ContainerSpec& spec, std::string_view input) {
    for (int variant = 0; variant < 3; ++variant) {
        TranslateOptions options{bundle_dir(), variant == 0 ? CgroupVersion::v1 : CgroupVersion::v2,
                                 variant == 2 ? pct_target_policy() : TargetPolicy{}};
        try {
            LxcConfig config = translate(spec, options);
            to_config_text(config);
        } catch (const Error& e) {
            fuzz::check_message(e, input);
        }
    }
    for (CgroupVersion version : {CgroupVersion::v1, CgroupVersion::v2}) {
        try {
            translate_resources(spec.linux_spec.resources, version);
        } catch (const Error& e) {
            fuzz::check_message(e, input);
        }
    }
    try {
        pct_resource_options(spec.linux_spec.resources);
        build_pct_plan(spec, PctSettings{},
                       {"c1", 4711, bundle_dir(), "local:vztmpl/t.tar.zst", bundle_dir() / "rt", "/usr/libexec/init"});
    } catch (const Error& e) {
        fuzz::check_message(e, input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_sandbox(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_text(data, size);
    try {
        oci::CheckResult result = oci::check_config(parse_json(input, "config.json"));
        if (result.spec.has_value() != result.problems.empty()) fuzz::fail("a spec together with problems");
        for (const auto& problem : result.problems)
            if (oci::to_string(problem).empty()) fuzz::fail("a problem without a message");
        if (result.spec) translate_all(*result.spec, input);
    } catch (const Error& e) {
        fuzz::check_message(e, input);
    }

    fuzz::write_input(bundle_dir() / "config.json", data, size);
    bundle::ValidationResult validation = bundle::validate_bundle(bundle_dir());
    for (const auto& problem : validation.problems)
        if (oci::to_string(problem).empty()) fuzz::fail("a bundle problem without a message");
    return 0;
}
