// json_edit: structured edits of a JSON (with // comments) config file in the image,
// e.g. Intel's /etc/sgx_default_qcnl.conf. Never a sed on the vendor's file.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& json_edit_kind() {
    static const StepKind kind{
        "json_edit",
        "Edit a JSON config file (comments allowed) as JSON.",
        "`set` assigns values to keys (a key starting with / is a JSON pointer). `replace_host` "
        "replaces only the host:port of URL-valued keys, keeping scheme and path (e.g. "
        "pccs_url keeps /sgx/certification/v4/). The file may hold // and /* */ comments and "
        "trailing or leading commas, as Intel's qcnl file does; comments are kept. A file that "
        "is not JSON with comments is an error, never rewritten.",
        {
            {"path", FieldType::Path, true, {}, "The file in the image."},
            {"set", FieldType::Any, false, nlohmann::json::object(), "key: value pairs to set."},
            {"replace_host", FieldType::StringMap, false, nlohmann::json::object(),
             "key: HOST:PORT for URL values whose host and port change."},
        },
        "json_edit:\n  path: /etc/sgx_default_qcnl.conf\n  set: {use_secure_cert: true}\n"
        "  replace_host: {pccs_url: \"pccs.baidubce.com:8081\"}\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            if (!s.spec["set"].is_object())
                d.error(loc("set"), "'set' must be a mapping of key: value");
            if (s.spec["set"].empty() && s.spec["replace_host"].empty())
                d.error(loc("path"), "json_edit changes nothing: give 'set' or 'replace_host'");
            for (const auto& [k, v] : s.spec["replace_host"].items()) {
                std::string hp = v.get<std::string>();
                auto colon = hp.rfind(':');
                bool ok = !hp.empty() && hp.find('/') == std::string::npos && hp.find(' ') == std::string::npos;
                if (ok && colon != std::string::npos) {
                    std::string port = hp.substr(colon + 1);
                    ok = !port.empty() && port.size() <= 5 && util::is_hex(port) &&
                         std::all_of(port.begin(), port.end(), ::isdigit) && std::stoi(port) <= 65535;
                }
                if (!ok)
                    d.error(loc("replace_host"), fmt::format("'{}' is not HOST or HOST:PORT", hp),
                            "e.g. pccs.example.com:8081 (no scheme, no path)");
            }
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out;
            for (const auto& [k, v] : s.spec["set"].items())
                out.push_back(fmt::format("{}: set {} = {}", text(s.spec, "path"), k, v.dump()));
            for (const auto& [k, v] : s.spec["replace_host"].items())
                out.push_back(fmt::format("{}: {} host:port -> {} (scheme and path kept)", text(s.spec, "path"), k,
                                          v.get<std::string>()));
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
