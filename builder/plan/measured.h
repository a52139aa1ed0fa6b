#pragma once
// Which measurement registers a step can change (docs/measure.md, "What a recipe change
// does to the registers"), so a reviewer sees a recipe change's attestation impact before a
// bake. The rules follow what a boot through shim and grub measures (measure/predict.h):
// RTMR1 holds the GPT, shim, grub and, with Secure Boot on, the kernel; RTMR2 holds shim's MOK
// state and, only with a grub that measures into the TD, grub's commands, the kernel command
// line and the files grub reads (grub.cfg, the kernel, the initrd). Files elsewhere change none.
#include "recipe/recipe.h"

#include <string>
#include <vector>

namespace ccbake::plan {

struct Impact {
    std::vector<std::string> registers; // "RTMR1", "RTMR2"; empty: none; {"unknown"} for run
    std::string why;
};

Impact measured_impact(const recipe::Step& s);
// One line for `plan`: "RTMR2 (if grub measures into the TD): ..." or "none".
std::string impact_line(const Impact& i);

} // namespace ccbake::plan
