#include "steps/kinds.h"

namespace ccbake::steps {

const std::vector<const StepKind*>& all_kinds() {
    static const std::vector<const StepKind*> kinds = {
        &kernel_kind(),       &apt_repo_kind(),      &apt_install_kind(),
        &deb_install_kind(),  &nvidia_driver_kind(), &vendor_installer_kind(),
        &source_build_kind(), &python_venv_kind(),   &kernel_cmdline_kind(),
        &systemd_kind(),      &json_edit_kind(),     &modprobe_kind(),
        &file_kind(),         &run_kind(),           &guest_check_kind(),
    };
    return kinds;
}

SameKind same_kind_steps(const recipe::Recipe& r, const recipe::Step& s) {
    SameKind out;
    bool found = false;
    for (const auto& t : r.steps) {
        if (t.kind != s.kind) continue;
        if (!found && (&t == &s || (t.name == s.name && t.hash == s.hash))) {
            out.index = out.steps.size();
            found = true;
        }
        out.steps.push_back(&t);
    }
    if (!found) out = SameKind{{&s}, 0};
    return out;
}

const StepKind* find_kind(const std::string& name) {
    for (const auto* k : all_kinds())
        if (k->name == name) return k;
    return nullptr;
}

} // namespace ccbake::steps
