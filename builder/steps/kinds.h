#pragma once
// One function per step kind, each defined in its own file under steps/.
#include "steps/step.h"

namespace ccbake::steps {

const StepKind& apt_repo_kind();
const StepKind& apt_install_kind();
const StepKind& deb_install_kind();
const StepKind& nvidia_driver_kind();
const StepKind& vendor_installer_kind();
const StepKind& source_build_kind();
const StepKind& python_venv_kind();
const StepKind& kernel_kind();
const StepKind& kernel_cmdline_kind();
const StepKind& systemd_kind();
const StepKind& json_edit_kind();
const StepKind& modprobe_kind();
const StepKind& file_kind();
const StepKind& run_kind();
const StepKind& guest_check_kind();

} // namespace ccbake::steps
