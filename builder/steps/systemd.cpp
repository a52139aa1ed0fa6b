// systemd: unit files the image lacks, ordering drop-ins in [Unit] where systemd honours
// them, offline enablement, and a check that the ordering has no cycle.
#include "config/systemd_units.h"
#include "steps/capture.h"
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <functional>
#include <map>
#include <regex>
#include <set>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

bool valid_unit_name(const std::string& n) {
    static const std::regex re(
        R"(^[A-Za-z0-9@_.\\:-]+\.(service|target|socket|timer|mount|path|slice)$)");
    return std::regex_match(n, re);
}

// Edges "A starts before B" from the recipe's ordering list and from [Unit] sections of
// the units it writes.
std::map<std::string, std::set<std::string>> ordering_graph(const nlohmann::json& spec) {
    std::map<std::string, std::set<std::string>> before;
    auto words = [](const std::string& v) { return util::split(util::trim(v), ' '); };
    for (const auto& o : spec.at("ordering")) {
        std::string unit = text(o, "unit");
        for (const auto& a : texts(o, "after"))
            before[a].insert(unit);
        for (const auto& b : texts(o, "before"))
            before[unit].insert(b);
    }
    for (const auto& u : spec.at("units")) {
        std::string unit = text(u, "name"), section;
        for (const auto& raw : util::split(text(u, "content"), '\n')) {
            std::string line = util::trim(raw);
            if (util::starts_with(line, "[")) section = line;
            if (section != "[Unit]") continue;
            if (util::starts_with(line, "After="))
                for (const auto& a : words(line.substr(6)))
                    if (!a.empty()) before[a].insert(unit);
            if (util::starts_with(line, "Before="))
                for (const auto& b : words(line.substr(7)))
                    if (!b.empty()) before[unit].insert(b);
        }
    }
    return before;
}

// A cycle as "a -> b -> a", or "".
std::string find_cycle(const std::map<std::string, std::set<std::string>>& g) {
    std::map<std::string, int> state; // 0 new, 1 on stack, 2 done
    std::vector<std::string> stack;
    std::string cycle;
    std::function<bool(const std::string&)> visit = [&](const std::string& n) {
        state[n] = 1;
        stack.push_back(n);
        if (auto it = g.find(n); it != g.end())
            for (const auto& m : it->second) {
                if (state[m] == 1) {
                    auto from = std::find(stack.begin(), stack.end(), m);
                    std::vector<std::string> path(from, stack.end());
                    path.push_back(m);
                    cycle = util::join(path, " -> ");
                    return true;
                }
                if (state[m] == 0 && visit(m)) return true;
            }
        stack.pop_back();
        state[n] = 2;
        return false;
    };
    for (const auto& [n, _] : g)
        if (state[n] == 0 && visit(n)) return cycle;
    return {};
}

constexpr const char* kDropinName = "50-ccbake-ordering.conf";

// Stacking: the ordering and units of every systemd step of the recipe up to `s`, in recipe
// order, as one spec. Each unit's drop-in holds what all of them ask for it, so a later step
// never takes away an earlier step's ordering, and cycles are found across steps.
nlohmann::json composed_spec(const recipe::Recipe& r, const recipe::Step& s,
                             size_t upto_extra = 1) {
    auto same = same_kind_steps(r, s);
    nlohmann::json out = {{"ordering", nlohmann::json::array()},
                          {"units", nlohmann::json::array()}};
    for (size_t i = 0; i < same.index + upto_extra && i < same.steps.size(); ++i)
        for (const char* key : {"ordering", "units"})
            // value(), not at(): `validate` composes with earlier steps whose fields may not
            // have type-checked (and so lack the key).
            for (const auto& e : same.steps[i]->spec.value(key, nlohmann::json::array()))
                out[key].push_back(e);
    return out;
}

// A cycle systemd would see in the image, reachable from `units`: the ordering of every unit
// file in the image's unit directories as systemd merges its files (the image's own units can
// close a cycle the recipe opens: a Before= in a unit the recipe never names).
std::string image_cycle(const std::filesystem::path& root, const std::vector<std::string>& units) {
    std::set<std::string> all(units.begin(), units.end());
    static const std::regex unit_file(
        R"(^[A-Za-z0-9@_.\\:-]+\.(service|target|socket|timer|mount|path|slice)$)");
    for (const auto& dir : config::system_unit_paths()) {
        std::error_code ec;
        for (const auto& e :
             std::filesystem::directory_iterator(target::resolve_in_root(root, dir, true), ec)) {
            std::string n = e.path().filename().string();
            if (std::regex_match(n, unit_file) && n.find('@') == std::string::npos) all.insert(n);
        }
    }
    std::map<std::string, std::set<std::string>> before;
    for (const auto& n : all) {
        auto u = config::load_unit_ordering(root, n);
        for (const auto& a : u.after)
            before[a].insert(n);
        for (const auto& b : u.before)
            before[n].insert(b);
    }
    std::map<std::string, std::set<std::string>> reachable; // the part reachable from `units`
    std::vector<std::string> todo(units.begin(), units.end());
    while (!todo.empty()) {
        std::string n = todo.back();
        todo.pop_back();
        if (reachable.count(n)) continue;
        reachable[n] = before[n];
        todo.insert(todo.end(), before[n].begin(), before[n].end());
    }
    return find_cycle(reachable);
}

std::string unit_dir(const std::string& unit) {
    return "/etc/systemd/system/" + unit;
}

// The recipe's ordering entries, merged per unit in the order units first appear.
struct UnitDeps {
    std::string unit;
    std::vector<std::string> after, before, wants, requires_;
    std::vector<std::string> notes; // comment lines for the drop-in
};

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& x : from)
        if (std::find(to.begin(), to.end(), x) == to.end()) to.push_back(x);
}

std::vector<UnitDeps> merged_ordering(const nlohmann::json& spec) {
    std::vector<UnitDeps> out;
    for (const auto& o : spec.at("ordering")) {
        std::string unit = text(o, "unit");
        auto it =
            std::find_if(out.begin(), out.end(), [&](const UnitDeps& d) { return d.unit == unit; });
        if (it == out.end()) it = out.insert(out.end(), UnitDeps{unit, {}, {}, {}, {}, {}});
        add_unique(it->after, texts(o, "after"));
        add_unique(it->before, texts(o, "before"));
        add_unique(it->wants, texts(o, "wants"));
        add_unique(it->requires_, texts(o, "requires"));
    }
    return out;
}

std::string render_dropin(const UnitDeps& d) {
    std::string out =
        "# Written by ccbake: ordering and dependencies the recipe asks for. systemd honours\n"
        "# them only in [Unit]; under [Install] it ignores them.\n";
    for (const auto& n : d.notes)
        out += "# " + n + "\n";
    out += "[Unit]\n";
    auto line = [&](const char* key, const std::vector<std::string>& v) {
        if (!v.empty()) out += std::string(key) + "=" + util::join(v, " ") + "\n";
    };
    line("After", d.after);
    line("Before", d.before);
    line("Wants", d.wants);
    line("Requires", d.requires_);
    return out;
}

bool unit_exists(const StepContext& ctx, const std::string& unit) {
    return !config::load_unit_ordering(ctx.target.root(), unit).fragment.empty();
}

// Ordering keys a unit file in the image puts under [Install]: carried into the drop-in's
// [Unit] unless that contradicts the recipe (then the recipe wins and the note says so).
std::vector<config::MisplacedKey> correct_misplaced(StepContext& ctx, const nlohmann::json& spec,
                                                    UnitDeps& d) {
    auto u = config::load_unit_ordering(ctx.target.root(), d.unit);
    std::vector<config::MisplacedKey> found;
    for (const auto& m : u.misplaced) {
        found.push_back(m);
        auto values = util::split(m.value, ' ');
        std::vector<std::string> kept;
        for (const auto& v : values) {
            if (util::trim(v).empty()) continue;
            nlohmann::json trial = spec;
            nlohmann::json entry = {{"unit", d.unit}};
            entry[util::to_lower(m.key)] = nlohmann::json::array({v});
            trial["ordering"].push_back(entry);
            if (find_cycle(ordering_graph(trial)).empty())
                kept.push_back(v);
            else
                d.notes.push_back(fmt::format(
                    "{}={} under [Install] of {} not carried over: the recipe orders the "
                    "other way",
                    m.key, v, m.file));
        }
        if (kept.empty()) continue;
        d.notes.push_back(
            fmt::format("{}={} was under [Install] of {} (line {}), where systemd ignores it",
                        m.key, util::join(kept, " "), m.file, m.line));
        if (m.key == "After") add_unique(d.after, kept);
        if (m.key == "Before") add_unique(d.before, kept);
        if (m.key == "Wants") add_unique(d.wants, kept);
        if (m.key == "Requires") add_unique(d.requires_, kept);
    }
    return found;
}

void enable_units(StepContext& ctx, const std::vector<std::string>& units,
                  std::vector<std::string>& changes) {
    for (const auto& unit : units) {
        auto state = util::trim(capture(ctx, {"systemctl", "is-enabled", unit}).output);
        if (auto nl = state.rfind('\n'); nl != std::string::npos) state = state.substr(nl + 1);
        if (state == "enabled" || state == "enabled-runtime" || state == "alias" ||
            state == "linked")
            continue;
        if (state == "static" || state == "indirect" || state == "masked" || state == "generated")
            throw Error(
                fmt::format("cannot enable {}: systemctl says it is {}", unit, state),
                state == "masked"
                    ? "unmask it first"
                    : "give the unit an [Install] section (e.g. WantedBy=multi-user.target)");
        if (state != "disabled")
            throw Error(
                fmt::format("cannot enable {}: it is not installed in the image ({})", unit, state),
                "write it under 'units' or install its package in an earlier step");
        capture_or_fail(ctx, {"systemctl", "enable", unit},
                        fmt::format("systemctl enable {} failed", unit));
        changes.push_back("enabled " + unit);
    }
}

// Whether a warning is about a key under [Install] that an earlier step of this or an earlier
// bake already carried into [Unit] with ccbake's drop-in: such findings stay exempt.
bool corrected_earlier(StepContext& ctx, const std::string& warning) {
    static const std::regex re(
        R"(([^/\s:]+\.(service|target|socket|timer|mount|path|slice)):(\d+): .*'(Before|After|Requires|Wants)')");
    std::smatch m;
    if (!std::regex_search(warning, m, re)) return false;
    const std::string unit = m[1].str(), key = m[4].str();
    const int line = std::stoi(m[3].str());
    auto dropin = target::read_in_root(ctx.target.root(), unit_dir(unit) + ".d/" + kDropinName);
    if (!dropin || dropin->find("under [Install]") == std::string::npos) return false;
    for (const auto& k : config::load_unit_ordering(ctx.target.root(), unit).misplaced)
        if (k.line == line && k.key == key) return true;
    return false;
}

// systemd-analyze verify prints warnings but exits 0 on them: every line it prints is a
// failure, except the misplaced keys this step found and corrected through a drop-in.
void verify_units(StepContext& ctx, const std::vector<std::string>& units,
                  const std::vector<config::MisplacedKey>& corrected) {
    if (units.empty()) return;
    std::vector<std::string> argv = {"systemd-analyze", "verify", "--man=no"};
    argv.insert(argv.end(), units.begin(), units.end());
    ctx.progress("systemd-analyze verify " + util::join(units, " "));
    Captured c = capture(ctx, argv);
    std::vector<std::string> warnings;
    for (const auto& raw : util::split(c.output, '\n')) {
        std::string line = util::trim(raw);
        if (line.empty()) continue;
        // Matched by file name and line: systemd may name /usr/lib/... as /lib/... .
        bool known =
            std::any_of(corrected.begin(), corrected.end(), [&](const config::MisplacedKey& m) {
                std::string name = std::filesystem::path(m.file).filename().string();
                return line.find(fmt::format("/{}:{}:", name, m.line)) != std::string::npos &&
                       line.find("'" + m.key + "'") != std::string::npos;
            });
        if (!known && !corrected_earlier(ctx, line)) warnings.push_back(line);
    }
    if (c.exit_code == 0 && warnings.empty()) return;
    Error e(fmt::format("systemd-analyze verify found problems in {}: {}", util::join(units, " "),
                        warnings.empty() ? fmt::format("exit status {}", c.exit_code)
                                         : warnings.front()),
            "fix the unit files; systemd would ignore or misread what it warns about");
    for (size_t i = 1; i < warnings.size() && i < 10; ++i)
        e.add_context(warnings[i]);
    throw e;
}

// Proves each requested order against the files as systemd merges them.
void prove_ordering(StepContext& ctx, const nlohmann::json& spec) {
    for (const auto& [first, thens] : ordering_graph(spec))
        for (const auto& then : thens) {
            auto a = config::load_unit_ordering(ctx.target.root(), first);
            auto b = config::load_unit_ordering(ctx.target.root(), then);
            if (b.after.count(first) || a.before.count(then)) continue;
            Error e(fmt::format("systemd would not start {} before {}", first, then),
                    "a unit file or drop-in later in systemd's order resets After=/Before= (an "
                    "empty assignment)");
            e.add_context(then + " reads: " + util::join(b.files, ", "));
            e.add_context(first + " reads: " + util::join(a.files, ", "));
            throw e;
        }
}

StepResult apply_systemd(StepContext& ctx, const recipe::Step& s) {
    std::vector<std::string> changes;
    const auto root = ctx.target.root();
    std::vector<std::string> verify;
    for (const auto& u : s.spec["units"]) {
        std::string inside = unit_dir(text(u, "name"));
        target::WantedFile w;
        w.content = text(u, "content");
        if (!w.content->empty() && w.content->back() != '\n') *w.content += '\n';
        add_unique(changes, target::ensure_file(root, inside, w));
        verify.push_back(text(u, "name"));
    }
    // Every unit the step touches or names; one with ordering keys under [Install] gets a
    // drop-in too, even when the recipe orders nothing for it. The drop-ins hold what every
    // systemd step up to this one asks for their units.
    const nlohmann::json composed = composed_spec(ctx.recipe, s);
    std::set<std::string> mine;
    for (const auto& o : s.spec.at("ordering"))
        mine.insert(text(o, "unit"));
    const auto all_deps = merged_ordering(composed);
    std::vector<UnitDeps> deps;
    for (const auto& d : all_deps)
        if (mine.count(d.unit)) deps.push_back(d);
    std::vector<std::string> involved = texts(s.spec, "enable");
    for (const auto& u : s.spec["units"])
        involved.push_back(text(u, "name"));
    for (const auto& d : deps) {
        involved.push_back(d.unit);
        for (const auto* list : {&d.after, &d.before, &d.wants, &d.requires_})
            involved.insert(involved.end(), list->begin(), list->end());
    }
    for (const auto& unit : involved) {
        bool listed = std::any_of(deps.begin(), deps.end(),
                                  [&](const UnitDeps& d) { return d.unit == unit; });
        if (listed || config::load_unit_ordering(root, unit).misplaced.empty()) continue;
        // An earlier step's ordering of the unit stays in its drop-in.
        auto earlier = std::find_if(all_deps.begin(), all_deps.end(),
                                    [&](const UnitDeps& d) { return d.unit == unit; });
        deps.push_back(earlier != all_deps.end() ? *earlier : UnitDeps{unit, {}, {}, {}, {}, {}});
    }
    std::vector<config::MisplacedKey> corrected;
    for (auto& d : deps) {
        auto found = correct_misplaced(ctx, composed, d);
        corrected.insert(corrected.end(), found.begin(), found.end());
        for (const auto& m : found)
            ctx.progress(fmt::format(
                "{}:{}: {}= under [Install] is ignored by systemd; ordered in [Unit] by {}", m.file,
                m.line, m.key, kDropinName));
        std::string inside = unit_dir(d.unit) + ".d/" + kDropinName;
        target::WantedFile w;
        w.content = render_dropin(d);
        auto wrote = target::ensure_file(root, inside, w);
        add_unique(changes, wrote);
        // The journal and manifest record the correction, not only the file.
        if (!wrote.empty())
            for (const auto& n : d.notes)
                changes.push_back(d.unit + ": " + n);
        if (unit_exists(ctx, d.unit))
            add_unique(verify, {d.unit});
        else
            ctx.progress(d.unit + " is not installed yet: its drop-in applies once it is");
    }
    enable_units(ctx, texts(s.spec, "enable"), changes);
    if (flag(s.spec, "verify")) verify_units(ctx, verify, corrected);
    prove_ordering(ctx, composed);
    // What systemd will see: the image's own units and drop-ins too.
    std::vector<std::string> named;
    for (const auto& [a, bs] : ordering_graph(composed)) {
        named.push_back(a);
        named.insert(named.end(), bs.begin(), bs.end());
    }
    if (std::string cycle = image_cycle(root, named); !cycle.empty())
        throw Error("systemd would see an ordering cycle in the image: " + cycle,
                    "at boot systemd breaks it by deleting a start job; change the recipe's "
                    "ordering or the unit "
                    "that closes the cycle");
    return {changes};
}

} // namespace

const StepKind& systemd_kind() {
    static const StepKind kind{
        .name = "systemd",
        .summary = "Write units, ordering drop-ins and enablement; verify with systemd-analyze.",
        .details = "Units in `units` are written to /etc/systemd/system/NAME. Each `ordering` "
                   "entry becomes `/etc/systemd/system/UNIT.d/50-ccbake-ordering.conf` with "
                   "After=/Before=/Wants=/Requires= in its [Unit] section, where systemd honours "
                   "them (the vendor's example puts Before= under [Install], where systemd ignores "
                   "it: such a unit in `units` is refused, and one already in the image gets a "
                   "drop-in that carries the key into [Unit], unless the recipe orders the other "
                   "way). Units in `enable` are enabled offline. Cycles in the requested order are "
                   "refused with the cycle named. `systemd-analyze verify` then runs in the image "
                   "and any warning fails the step; the order is checked on the files as systemd "
                   "merges them. Stacking: a unit's drop-in holds the ordering of every systemd "
                   "step up to this one, in recipe order, so a later step never takes an earlier "
                   "step's ordering away; a cycle split across steps is refused by `validate`, and "
                   "one that the image's own units close fails the step, naming it; a misplaced "
                   "[Install] key an earlier step corrected is not a warning for later steps.",
        .fields =
            {
                {.name = "units",
                 .type = FieldType::ObjectList,
                 .default_value = nlohmann::json::array(),
                 .help = "Unit files to write.",
                 .fields =
                     {
                         {.name = "name",
                          .required = true,
                          .help = "Unit name, e.g. nvidia-persistenced.service."},
                         {.name = "content", .required = true, .help = "The unit file's text."},
                     }},
                {.name = "ordering",
                 .type = FieldType::ObjectList,
                 .default_value = nlohmann::json::array(),
                 .help = "Ordering and dependencies added to existing units through drop-ins.",
                 .fields =
                     {
                         {.name = "unit", .required = true, .help = "The unit the drop-in is for."},
                         {.name = "after",
                          .type = FieldType::StringList,
                          .help = "Start after these units."},
                         {.name = "before",
                          .type = FieldType::StringList,
                          .help = "Start before these units."},
                         {.name = "wants",
                          .type = FieldType::StringList,
                          .help = "Weak dependencies."},
                         {.name = "requires",
                          .type = FieldType::StringList,
                          .help = "Hard dependencies."},
                     }},
                {.name = "enable",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Units to enable offline."},
                {.name = "verify",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Run systemd-analyze verify and fail on warnings."},
            },
        .example = "systemd:\n  ordering:\n    - unit: bcm-agent.service\n      after: "
                   "[nvidia-persistenced.service]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                refuse_same_target(r, s, loc, "units", d, [](const recipe::Step& t) {
                    std::vector<std::string> out;
                    // t may be a step whose fields did not type-check (no 'units').
                    for (const auto& u : t.spec.value("units", nlohmann::json::array()))
                        out.push_back("/etc/systemd/system/" + text(u, "name"));
                    return out;
                });
                for (const auto& u : s.spec.at("units")) {
                    std::string name = text(u, "name");
                    if (!valid_unit_name(name))
                        d.error(loc("units"), fmt::format("'{}' is not a systemd unit name", name),
                                "e.g. nvidia-persistenced.service");
                    std::string section;
                    for (const auto& raw : util::split(text(u, "content"), '\n')) {
                        std::string line = util::trim(raw);
                        if (util::starts_with(line, "[")) section = line;
                        for (const char* key : {"Before=", "After=", "Requires=", "Wants="})
                            if (section == "[Install]" && util::starts_with(line, key))
                                d.error(loc("units"),
                                        fmt::format(
                                            "{}: '{}' is under [Install], where systemd ignores it",
                                            name, line),
                                        "ordering belongs in [Unit]");
                    }
                }
                for (const auto& o : s.spec.at("ordering")) {
                    for (const char* list : {"after", "before", "wants", "requires"})
                        for (const auto& n : texts(o, list))
                            if (!valid_unit_name(n))
                                d.error(loc("ordering"),
                                        fmt::format("'{}' is not a systemd unit name", n));
                    if (!valid_unit_name(text(o, "unit")))
                        d.error(loc("ordering"),
                                fmt::format("'{}' is not a systemd unit name", text(o, "unit")));
                }
                for (const auto& n : texts(s.spec, "enable"))
                    if (!valid_unit_name(n))
                        d.error(loc("enable"), fmt::format("'{}' is not a systemd unit name", n));
                std::string cycle = find_cycle(ordering_graph(s.spec));
                if (!cycle.empty())
                    d.error(loc("ordering"), "ordering cycle: " + cycle,
                            "systemd would break the cycle by dropping a start job at boot");
                else if (std::string across = find_cycle(ordering_graph(composed_spec(r, s)));
                         !across.empty() &&
                         find_cycle(ordering_graph(composed_spec(r, s, 0))).empty()) {
                    std::vector<std::string> names;
                    for (const auto* t : same_kind_steps(r, s).steps) {
                        if (t == &s || names.size() > 8) break;
                        names.push_back("'" + t->name + "'");
                    }
                    d.error(loc("ordering"),
                            fmt::format("ordering cycle across systemd steps: {} (this step '{}' "
                                        "closes it; earlier: {})",
                                        across, s.name, util::join(names, ", ")),
                            "systemd would break the cycle by dropping a start job at boot");
                }
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe& r) {
                std::vector<std::string> out;
                for (const auto& u : s.spec["units"])
                    out.push_back("write /etc/systemd/system/" + text(u, "name"));
                for (const auto& [first, thens] : ordering_graph(s.spec))
                    for (const auto& then : thens)
                        out.push_back(fmt::format("order: {} before {}", first, then));
                for (const auto& o : s.spec["ordering"]) {
                    auto wants = texts(o, "wants"), req = texts(o, "requires");
                    if (!wants.empty())
                        out.push_back(
                            fmt::format("{} wants {}", text(o, "unit"), util::join(wants, " ")));
                    if (!req.empty())
                        out.push_back(
                            fmt::format("{} requires {}", text(o, "unit"), util::join(req, " ")));
                }
                auto enable = texts(s.spec, "enable");
                if (!enable.empty()) out.push_back("enable " + util::join(enable, " "));
                if (flag(s.spec, "verify")) out.push_back("systemd-analyze verify (warnings fail)");
                // The last systemd step shows what all of them compose per unit, and who asked.
                const auto same = same_kind_steps(r, s);
                if (same.steps.size() > 1 && same.index + 1 == same.steps.size()) {
                    std::map<std::string, std::vector<std::string>>
                        parts; // unit -> "after X (step)"
                    for (const auto* t : same.steps)
                        for (const auto& o : t->spec.at("ordering"))
                            for (const char* key : {"after", "before", "wants", "requires"})
                                for (const auto& v : texts(o, key))
                                    parts[text(o, "unit")].push_back(
                                        fmt::format("{} {} ({})", key, v, t->name));
                    for (const auto& [unit, list] : parts)
                        out.push_back(fmt::format("composed {}: {}", unit, util::join(list, ", ")));
                }
                return out;
            },
        .apply = apply_systemd,
    };
    return kind;
}

} // namespace ccbake::steps
