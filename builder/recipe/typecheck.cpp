#include "recipe/typecheck.h"

#include "util/size.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::recipe {

using nlohmann::json;

std::vector<int> parse_version(const std::string& text) {
    std::vector<int> out;
    size_t i = 0;
    while (i < text.size() && out.size() < 4) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) break;
        long v = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            v = v * 10 + (text[i] - '0');
            if (v > 1000000) return {};
            ++i;
        }
        out.push_back(static_cast<int>(v));
        if (i < text.size() && text[i] == '.')
            ++i;
        else
            break;
    }
    return out;
}

long long parse_duration(const std::string& text) {
    std::string s = util::trim(text);
    size_t i = 0;
    long long v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        v = v * 10 + (s[i] - '0');
        if (v > 10'000'000) return -1;
        ++i;
    }
    if (i == 0) return -1;
    std::string unit = s.substr(i);
    if (unit.empty() || unit == "s") return v;
    if (unit == "m" || unit == "min") return v * 60;
    if (unit == "h") return v * 3600;
    return -1;
}

namespace {

std::vector<std::string> field_names(const std::vector<Field>& fields) {
    std::vector<std::string> out;
    for (const auto& f : fields)
        out.push_back(f.name);
    return out;
}

// The values of the Artifact-typed fields of `spec`, nested ones included, in field order.
void collect_artifacts(const json& spec, const std::vector<Field>& fields,
                       std::vector<std::string>& out) {
    for (const auto& f : fields) {
        if (!spec.is_object() || !spec.contains(f.name)) continue;
        const json& v = spec[f.name];
        if (f.type == FieldType::Artifact && v.is_string())
            out.push_back(v.get<std::string>());
        else if (f.type == FieldType::Object)
            collect_artifacts(v, f.fields, out);
        else if (f.type == FieldType::ObjectList && v.is_array())
            for (const auto& item : v)
                collect_artifacts(item, f.fields, out);
    }
}

bool valid_url(const std::string& s) {
    for (const char* scheme : {"http://", "https://"}) {
        if (util::starts_with(s, scheme)) {
            std::string rest = s.substr(std::string(scheme).size());
            return !rest.empty() && rest[0] != '/' && rest.find(' ') == std::string::npos;
        }
    }
    return util::starts_with(s, "file:///") && s.find(' ') == std::string::npos;
}

} // namespace

json TypeChecker::check_value(const Node& n, const Field& f, const std::string& what) {
    auto wrong = [&](const std::string& expected) {
        diags.error(n.where, fmt::format("'{}' in {} must be {}, not {}", f.name, what, expected,
                                         n.kind_name()));
        return json();
    };
    auto scalar = [&]() -> const std::string* {
        if (!n.is_scalar()) {
            wrong("a " + type_name(f));
            return nullptr;
        }
        return &n.scalar;
    };
    switch (f.type) {
    case FieldType::String: {
        auto s = scalar();
        return s ? json(*s) : json();
    }
    case FieldType::Path: {
        auto s = scalar();
        if (!s) return {};
        if (s->empty() || (*s)[0] != '/') {
            diags.error(
                n.where,
                fmt::format("'{}' must be an absolute path inside the image, got '{}'", f.name, *s),
                "start it with '/'");
            return {};
        }
        for (const auto& part : util::split(*s, '/'))
            if (part == "..") {
                diags.error(n.where, fmt::format("'{}' must not contain '..'", f.name));
                return {};
            }
        return *s;
    }
    case FieldType::Bool: {
        auto s = scalar();
        if (!s) return {};
        std::string v = util::to_lower(*s);
        if (v == "true" || v == "yes") return true;
        if (v == "false" || v == "no") return false;
        diags.error(n.where,
                    fmt::format("'{}' in {} must be true or false, not '{}'", f.name, what, *s));
        return {};
    }
    case FieldType::Int: {
        auto s = scalar();
        if (!s) return {};
        if (s->empty() || s->size() > 18 || !std::all_of(s->begin(), s->end(), ::isdigit)) {
            diags.error(n.where, fmt::format("'{}' in {} must be a whole number, not '{}'", f.name,
                                             what, *s));
            return {};
        }
        return std::stoll(*s);
    }
    case FieldType::Size: {
        auto s = scalar();
        if (!s) return {};
        auto parsed = util::parse_size(*s);
        if (!parsed.bytes) {
            diags.error(n.where,
                        fmt::format("'{}' is not a size: '{}' ({})", f.name, *s, parsed.error),
                        "write a whole number with a unit, e.g. 4GiB or 512MiB");
            return {};
        }
        return *parsed.bytes;
    }
    case FieldType::Duration: {
        auto s = scalar();
        if (!s) return {};
        long long secs = parse_duration(*s);
        if (secs <= 0) {
            diags.error(n.where, fmt::format("'{}' is not a duration: '{}'", f.name, *s),
                        "write a whole number with s, m or h, e.g. 90s or 10m");
            return {};
        }
        return secs;
    }
    case FieldType::Enum: {
        auto s = scalar();
        if (!s) return {};
        if (std::find(f.choices.begin(), f.choices.end(), *s) == f.choices.end()) {
            std::string hint = util::closest(*s, f.choices);
            diags.error(
                n.where,
                fmt::format("'{}' in {} must be {}, not '{}'", f.name, what, type_name(f), *s),
                hint.empty() ? "" : fmt::format("did you mean '{}'?", hint));
            return {};
        }
        return *s;
    }
    case FieldType::Url: {
        auto s = scalar();
        if (!s) return {};
        if (!valid_url(*s)) {
            diags.error(n.where, fmt::format("'{}' is not a usable URL: '{}'", f.name, *s),
                        "use http://HOST/..., https://HOST/... or file:///PATH");
            return {};
        }
        return *s;
    }
    case FieldType::Md5:
    case FieldType::Sha256: {
        auto s = scalar();
        if (!s) return {};
        size_t want = f.type == FieldType::Md5 ? 32 : 64;
        const char* algo = f.type == FieldType::Md5 ? "md5" : "sha256";
        if (s->size() != want || !util::is_hex(*s)) {
            diags.error(n.where,
                        fmt::format("{} must be {} hex digits, got {} characters{}", algo, want,
                                    s->size(), util::is_hex(*s) ? "" : " with non-hex ones"),
                        f.type == FieldType::Md5 && s->size() == 64 && util::is_hex(*s)
                            ? "this looks like a sha256: put it under 'sha256:'"
                            : "");
            return {};
        }
        return util::to_lower(*s);
    }
    case FieldType::Version: {
        auto s = scalar();
        if (!s) return {};
        auto v = parse_version(*s);
        if (v.empty() || fmt::format("{}", fmt::join(v, ".")) != *s) {
            diags.error(n.where, fmt::format("'{}' must be a dotted version like 6.6.0, not '{}'",
                                             f.name, *s));
            return {};
        }
        return *s;
    }
    case FieldType::Artifact: {
        auto s = scalar();
        if (!s) return {};
        artifact_refs.push_back({*s, n.where});
        return *s;
    }
    case FieldType::StringList: {
        if (!n.is_seq()) return wrong("a list");
        json out = json::array();
        for (const auto& item : n.seq) {
            if (!item.is_scalar()) {
                diags.error(item.where, fmt::format("items of '{}' in {} must be strings, not {}",
                                                    f.name, what, item.kind_name()));
                continue;
            }
            out.push_back(item.scalar);
        }
        return out;
    }
    case FieldType::ArgvList: {
        if (!n.is_seq()) return wrong("a list of argument lists");
        json out = json::array();
        for (const auto& argv : n.seq) {
            if (!argv.is_seq()) {
                diags.error(argv.where, fmt::format("each item of '{}' must be an argument list "
                                                    "like [make, clean], not {}",
                                                    f.name, argv.kind_name()));
                continue;
            }
            json args = json::array();
            for (const auto& a : argv.seq) {
                if (!a.is_scalar())
                    diags.error(a.where, "an argument must be a string");
                else
                    args.push_back(a.scalar);
            }
            out.push_back(args);
        }
        return out;
    }
    case FieldType::StringMap: {
        if (n.is_null()) return json::object();
        if (!n.is_map()) return wrong("a mapping");
        json out = json::object();
        for (const auto& [k, v] : n.map) {
            if (!v.is_scalar()) {
                diags.error(v.where, fmt::format("'{}' in '{}' must be a plain value, not {}",
                                                 k.scalar, f.name, v.kind_name()));
                continue;
            }
            out[k.scalar] = v.scalar;
        }
        return out;
    }
    case FieldType::Any: {
        std::function<json(const Node&)> to_json = [&](const Node& x) -> json {
            if (x.is_null()) return nullptr;
            if (x.is_seq()) {
                json a = json::array();
                for (const auto& i : x.seq)
                    a.push_back(to_json(i));
                return a;
            }
            if (x.is_map()) {
                json o = json::object();
                for (const auto& [k, v] : x.map)
                    o[k.scalar] = to_json(v);
                return o;
            }
            if (!x.quoted) {
                if (x.scalar == "true") return true;
                if (x.scalar == "false") return false;
                if (x.scalar == "null") return nullptr;
                if (!x.scalar.empty() && x.scalar.size() < 18 &&
                    std::all_of(x.scalar.begin(), x.scalar.end(), ::isdigit))
                    return std::stoll(x.scalar);
            }
            return x.scalar;
        };
        return to_json(n);
    }
    case FieldType::Object: {
        if (!n.is_map() && !n.is_null()) return wrong("a mapping");
        return check_map(n, f.fields, fmt::format("'{}'", f.name));
    }
    case FieldType::ObjectList: {
        if (!n.is_seq()) return wrong("a list");
        json out = json::array();
        for (const auto& item : n.seq) {
            if (!item.is_map()) {
                diags.error(item.where, fmt::format("items of '{}' must be mappings, not {}",
                                                    f.name, item.kind_name()));
                continue;
            }
            out.push_back(check_map(item, f.fields, fmt::format("an item of '{}'", f.name)));
        }
        return out;
    }
    }
    return {};
}

json TypeChecker::check_map(const Node& n, const std::vector<Field>& fields,
                            const std::string& what) {
    json out = json::object();
    std::vector<std::string> suggested; // a typo already reported as "did you mean"
    for (const auto& [k, v] : n.map) {
        auto f = std::find_if(fields.begin(), fields.end(),
                              [&name = k.scalar](const Field& x) { return x.name == name; });
        if (f == fields.end()) {
            std::string hint = util::closest(k.scalar, field_names(fields));
            suggested.push_back(hint);
            diags.error(k.where, fmt::format("unknown key '{}' in {}", k.scalar, what),
                        hint.empty() ? "known keys: " + util::join(field_names(fields), ", ")
                                     : fmt::format("did you mean '{}'?", hint));
            continue;
        }
        if (v.is_null() && f->type != FieldType::Any && f->type != FieldType::StringMap &&
            f->type != FieldType::Object) {
            diags.error(v.where, fmt::format("'{}' in {} has no value", k.scalar, what),
                        "give it a value or remove the key");
            continue;
        }
        json value = check_value(v, *f, what);
        if (!value.is_null() || f->type == FieldType::Any) out[k.scalar] = value;
    }
    for (const auto& f : fields) {
        if (out.contains(f.name) || n.find(f.name)) continue;
        if (f.required && std::find(suggested.begin(), suggested.end(), f.name) == suggested.end())
            diags.error(n.where, fmt::format("{} is missing the required key '{}'", what, f.name),
                        f.help);
        else if (f.default_value.is_string() &&
                 (f.type == FieldType::Size || f.type == FieldType::Duration)) {
            Node text; // defaults are written like the user would write them
            text.kind = Node::Kind::Scalar;
            text.scalar = f.default_value.get<std::string>();
            text.where = n.where;
            out[f.name] = check_value(text, f, what);
        } else if (!f.default_value.is_null())
            out[f.name] = f.default_value;
    }
    return out;
}

Step check_step(TypeChecker& tc, const StepSchema& kind, const Node& body, const Location& where) {
    std::vector<Field> fields = common_step_fields();
    fields.insert(fields.end(), kind.fields.begin(), kind.fields.end());
    Step s;
    s.kind = kind.kind;
    s.where = where;
    s.spec = tc.check_map(body, fields, fmt::format("step '{}'", kind.kind));
    collect_artifacts(s.spec, kind.fields, s.artifacts);
    return s;
}

} // namespace ccbake::recipe
