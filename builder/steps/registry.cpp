#include "steps/kinds.h"

#include <algorithm>
#include <fmt/format.h>

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

const recipe::StepSchemas& schemas() {
    static const recipe::StepSchemas out = [] {
        recipe::StepSchemas s;
        for (const auto* k : all_kinds())
            s.kinds.push_back({.kind = k->name, .fields = k->fields, .check = k->check});
        return s;
    }();
    return out;
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

void refuse_same_target(const recipe::Recipe& r, const recipe::Step& s, const FieldLoc& loc,
                        const std::string& field, recipe::Diagnostics& d,
                        const std::function<std::vector<std::string>(const recipe::Step&)>& key) {
    auto same = same_kind_steps(r, s);
    auto mine = key(s);
    for (size_t i = 0; i < same.index; ++i)
        for (const auto& theirs : key(*same.steps[i]))
            if (!theirs.empty() && std::find(mine.begin(), mine.end(), theirs) != mine.end()) {
                d.error(loc(field),
                        fmt::format(
                            "{} steps '{}' and '{}' both write {}: the later would replace what "
                            "the earlier wrote",
                            s.kind, same.steps[i]->name, s.name, theirs),
                        fmt::format(
                            "merge them into one step, or give this step the name '{}' so that it "
                            "replaces the earlier one (include merges steps by name)",
                            same.steps[i]->name));
                return;
            }
}

const StepKind* find_kind(const std::string& name) {
    for (const auto* k : all_kinds())
        if (k->name == name) return k;
    return nullptr;
}

} // namespace ccbake::steps
