// systemd: unit files the image lacks, ordering drop-ins in [Unit] where systemd honours
// them, offline enablement, and a check that the ordering has no cycle.
#include <fmt/format.h>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

namespace {

bool valid_unit_name(const std::string& n) {
    static const std::regex re(R"(^[A-Za-z0-9@_.\\:-]+\.(service|target|socket|timer|mount|path|slice)$)");
    return std::regex_match(n, re);
}

// Edges "A starts before B" from the recipe's ordering list and from [Unit] sections of
// the units it writes.
std::map<std::string, std::set<std::string>> ordering_graph(const nlohmann::json& spec) {
    std::map<std::string, std::set<std::string>> before;
    auto words = [](const std::string& v) { return util::split(util::trim(v), ' '); };
    for (const auto& o : spec.value("ordering", nlohmann::json::array())) {
        std::string unit = text(o, "unit");
        for (const auto& a : texts(o, "after")) before[a].insert(unit);
        for (const auto& b : texts(o, "before")) before[unit].insert(b);
    }
    for (const auto& u : spec.value("units", nlohmann::json::array())) {
        std::string unit = text(u, "name"), section;
        for (const auto& raw : util::split(text(u, "content"), '\n')) {
            std::string line = util::trim(raw);
            if (util::starts_with(line, "[")) section = line;
            if (section != "[Unit]") continue;
            if (util::starts_with(line, "After="))
                for (const auto& a : words(line.substr(6))) if (!a.empty()) before[a].insert(unit);
            if (util::starts_with(line, "Before="))
                for (const auto& b : words(line.substr(7))) if (!b.empty()) before[unit].insert(b);
        }
    }
    return before;
}

// A cycle as "a -> b -> a", or "".
std::string find_cycle(const std::map<std::string, std::set<std::string>>& g) {
    std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
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

}  // namespace

const StepKind& systemd_kind() {
    static const StepKind kind{
        "systemd",
        "Write units, ordering drop-ins and enablement; verify with systemd-analyze.",
        "Units in `units` are written to /etc/systemd/system/NAME. Each `ordering` entry becomes "
        "`/etc/systemd/system/UNIT.d/50-ccbake-ordering.conf` with After=/Before=/Wants=/Requires= "
        "in its [Unit] section, where systemd honours them (the vendor's example puts Before= "
        "under [Install], where systemd ignores it; such a unit is refused). Units in `enable` "
        "are enabled offline. Cycles in the requested order are refused with the cycle named. "
        "`systemd-analyze verify` then runs in the image and any warning fails the step.",
        {
            {"units", FieldType::ObjectList, false, nlohmann::json::array(), "Unit files to write.", {},
             {
                 {"name", FieldType::String, true, {}, "Unit name, e.g. nvidia-persistenced.service."},
                 {"content", FieldType::String, true, {}, "The unit file's text."},
             }},
            {"ordering", FieldType::ObjectList, false, nlohmann::json::array(),
             "Ordering and dependencies added to existing units through drop-ins.", {},
             {
                 {"unit", FieldType::String, true, {}, "The unit the drop-in is for."},
                 {"after", FieldType::StringList, false, {}, "Start after these units."},
                 {"before", FieldType::StringList, false, {}, "Start before these units."},
                 {"wants", FieldType::StringList, false, {}, "Weak dependencies."},
                 {"requires", FieldType::StringList, false, {}, "Hard dependencies."},
             }},
            {"enable", FieldType::StringList, false, nlohmann::json::array(), "Units to enable offline."},
            {"verify", FieldType::Bool, false, true, "Run systemd-analyze verify and fail on warnings."},
        },
        "systemd:\n  ordering:\n    - unit: bcm-agent.service\n      after: [nvidia-persistenced.service]\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            for (const auto& u : s.spec.value("units", nlohmann::json::array())) {
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
                                    fmt::format("{}: '{}' is under [Install], where systemd ignores it",
                                                name, line),
                                    "ordering belongs in [Unit]");
                }
            }
            for (const auto& o : s.spec.value("ordering", nlohmann::json::array())) {
                for (const char* list : {"after", "before", "wants", "requires"})
                    for (const auto& n : texts(o, list))
                        if (!valid_unit_name(n))
                            d.error(loc("ordering"), fmt::format("'{}' is not a systemd unit name", n));
                if (!valid_unit_name(text(o, "unit")))
                    d.error(loc("ordering"), fmt::format("'{}' is not a systemd unit name", text(o, "unit")));
            }
            for (const auto& n : texts(s.spec, "enable"))
                if (!valid_unit_name(n)) d.error(loc("enable"), fmt::format("'{}' is not a systemd unit name", n));
            std::string cycle = find_cycle(ordering_graph(s.spec));
            if (!cycle.empty())
                d.error(loc("ordering"), "ordering cycle: " + cycle,
                        "systemd would break the cycle by dropping a start job at boot");
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out;
            for (const auto& u : s.spec["units"]) out.push_back("write /etc/systemd/system/" + text(u, "name"));
            for (const auto& [first, thens] : ordering_graph(s.spec))
                for (const auto& then : thens) out.push_back(fmt::format("order: {} before {}", first, then));
            for (const auto& o : s.spec["ordering"]) {
                auto wants = texts(o, "wants"), req = texts(o, "requires");
                if (!wants.empty()) out.push_back(fmt::format("{} wants {}", text(o, "unit"), util::join(wants, " ")));
                if (!req.empty()) out.push_back(fmt::format("{} requires {}", text(o, "unit"), util::join(req, " ")));
            }
            auto enable = texts(s.spec, "enable");
            if (!enable.empty()) out.push_back("enable " + util::join(enable, " "));
            if (s.spec.value("verify", true)) out.push_back("systemd-analyze verify (warnings fail)");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
