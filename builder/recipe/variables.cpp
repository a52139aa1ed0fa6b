#include "recipe/variables.h"

#include "util/strings.h"

#include <fmt/format.h>
#include <functional>
#include <set>
#include <vector>

namespace ccbake::recipe {

namespace {

bool valid_name(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

std::vector<std::string> names_of(const Variables& vars) {
    std::vector<std::string> out;
    for (const auto& [k, v] : vars)
        out.push_back(k);
    return out;
}

// Column of character `offset` of a scalar, when the scalar sits on one line.
Location at_offset(const Node& n, size_t offset) {
    Location l = n.where;
    if (n.scalar.find('\n') == std::string::npos)
        l.column += static_cast<int>(offset) + (n.quoted ? 1 : 0);
    return l;
}

// Expands one string. `lookup` returns nullptr for unknown names.
template <typename Lookup>
std::string expand(const Node& n, Lookup lookup, Diagnostics& diags, const Variables& known) {
    const std::string& s = n.scalar;
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 2;
            continue;
        }
        if (s.compare(i, 2, "${") != 0) {
            out += s[i];
            continue;
        }
        size_t close = s.find('}', i + 2);
        if (close == std::string::npos) {
            diags.error(at_offset(n, i), "unclosed '${' in a variable reference",
                        "write ${name}, or $${ for a literal ${");
            return s;
        }
        std::string name = s.substr(i + 2, close - i - 2);
        const std::string* value = lookup(name);
        if (!value) {
            std::string hint = util::closest(name, names_of(known));
            diags.error(at_offset(n, i), fmt::format("undefined variable '{}'", name),
                        hint.empty()
                            ? "declare it under 'variables:' or pass --set " + name + "=VALUE"
                            : fmt::format("did you mean '{}'?", hint));
        } else {
            out += *value;
        }
        i = close;
    }
    return out;
}

} // namespace

Variables collect_variables(const Node& doc, const std::map<std::string, std::string>& overrides,
                            Diagnostics& diags) {
    std::map<std::string, const Node*> raw;
    if (const Node* vars = doc.find("variables")) {
        if (!vars->is_map() && !vars->is_null()) {
            diags.error(vars->where, "'variables' must be a mapping of name: value",
                        "write: variables: {driver_version: 570.195.03}");
        } else {
            for (const auto& [k, v] : vars->map) {
                if (!valid_name(k.scalar))
                    diags.error(k.where, fmt::format("invalid variable name '{}'", k.scalar),
                                "use letters, digits, '_' and '-'");
                else if (!v.is_scalar() && !v.is_null())
                    diags.error(v.where, fmt::format("variable '{}' must be a plain value, not {}",
                                                     k.scalar, v.kind_name()));
                else
                    raw[k.scalar] = &v;
            }
        }
    }
    Variables resolved;
    for (const auto& [name, value] : overrides) {
        if (!raw.count(name)) {
            std::vector<std::string> known;
            for (const auto& [k, v] : raw)
                known.push_back(k);
            std::string hint = util::closest(name, known);
            diags.error({"--set", 0, 0}, fmt::format("the recipe has no variable '{}'", name),
                        hint.empty() ? "declare it under 'variables:' first"
                                     : fmt::format("did you mean '{}'?", hint));
            continue;
        }
        resolved[name] = value;
    }
    // Resolve the rest, following references depth-first and diagnosing cycles.
    std::set<std::string> in_progress;
    std::function<const std::string*(const std::string&)> resolve =
        [&](const std::string& name) -> const std::string* {
        if (auto it = resolved.find(name); it != resolved.end()) return &it->second;
        auto it = raw.find(name);
        if (it == raw.end()) return nullptr;
        if (!in_progress.insert(name).second) {
            diags.error(it->second->where, fmt::format("variable '{}' refers to itself", name),
                        "a variable's value may use other variables, but not in a cycle");
            static const std::string empty;
            return &empty;
        }
        Variables known;
        for (const auto& [k, v] : raw)
            known[k] = "";
        std::string value = expand(*it->second, resolve, diags, known);
        in_progress.erase(name);
        return &(resolved[name] = value);
    };
    for (const auto& [name, node] : raw)
        resolve(name);
    return resolved;
}

namespace {

void substitute(Node& n, const Variables& vars, Diagnostics& diags) {
    auto lookup = [&](const std::string& name) -> const std::string* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : &it->second;
    };
    if (n.is_scalar()) {
        if (n.scalar.find("${") != std::string::npos) n.scalar = expand(n, lookup, diags, vars);
    } else if (n.is_map()) {
        for (auto& [k, v] : n.map)
            substitute(v, vars, diags);
    } else if (n.is_seq()) {
        for (auto& item : n.seq)
            substitute(item, vars, diags);
    }
}

} // namespace

void substitute_all(Node& doc, const Variables& vars, Diagnostics& diags) {
    for (auto& [k, v] : doc.map)
        if (k.scalar != "variables") substitute(v, vars, diags);
}

} // namespace ccbake::recipe
