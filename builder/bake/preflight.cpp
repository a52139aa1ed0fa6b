#include "bake/preflight.h"

#include "image/inspect.h"
#include "target/kernels.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::bake {

bool recipe_installs_kernel(const recipe::Recipe& r) {
    for (const auto& s : r.steps)
        if (s.kind == "kernel") return true;
    return false;
}

ContentFacts check_contents(const std::filesystem::path& root, const recipe::Recipe& r,
                            const std::string& what) {
    ContentFacts facts;
    auto os = image::read_os_release(root);
    const std::string wanted = fmt::format("{} {}", r.base.os, r.base.version);
    if (!os)
        throw PreflightError(
            fmt::format("{} has no /etc/os-release: cannot tell whether it is {}", what, wanted),
            "start from an image of the OS the recipe's `base:` names");
    facts.os =
        os->pretty_name.empty() ? fmt::format("{} {}", os->id, os->version_id) : os->pretty_name;
    if (os->id != r.base.os || os->version_id != r.base.version)
        throw PreflightError(
            fmt::format("{} is {} (ID={} VERSION_ID={}), but the recipe bakes {}", what, facts.os,
                        os->id, os->version_id, wanted),
            fmt::format("start from a {} image, or change `base:` in the recipe", wanted));
    auto kernels = target::installed_kernels(root);
    if (auto k = target::kernels_at_least(root, r.base.min_kernel); !k.empty())
        facts.kernel = k.front();
    else if (!recipe_installs_kernel(r))
        throw PreflightError(
            fmt::format("{} has no kernel >= {} ({}) and no step of the recipe installs one", what,
                        r.base.min_kernel,
                        kernels.empty() ? "found none" : "found " + util::join(kernels, ", ")),
            fmt::format("add a `kernel` step (e.g. the HWE kernel) or start from an image with "
                        "kernel >= {}",
                        r.base.min_kernel));
    return facts;
}

void check_kernel_after_steps(const std::filesystem::path& root, const recipe::Recipe& r) {
    auto kernels = target::installed_kernels(root);
    if (target::kernels_at_least(root, r.base.min_kernel).empty())
        throw Error(
            fmt::format("after the steps the image still has no kernel >= {} ({})",
                        r.base.min_kernel,
                        kernels.empty() ? "found none" : "found " + util::join(kernels, ", ")),
            "check the recipe's `kernel` step: it must install a kernel of at least that version");
}

} // namespace ccbake::bake
