// json_edit: structured edits of a JSON (with // comments) config file in the image,
// e.g. Intel's /etc/sgx_default_qcnl.conf. Never a sed on the vendor's file.
#include "config/jsonc.h"
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

// A key starting with / is a JSON pointer; any other key names a top-level member.
nlohmann::json::json_pointer pointer_of(const std::string& key) {
    if (util::starts_with(key, "/")) return nlohmann::json::json_pointer(key);
    nlohmann::json::json_pointer p;
    return p / key;
}

StepResult apply_json_edit(StepContext& ctx, const recipe::Step& s) {
    const std::string path = text(s.spec, "path");
    // A link is followed inside the image and its target edited, as an editor in the guest would.
    const auto root = ctx.target.root();
    const std::string real =
        "/" + target::resolve_in_root(root, path, true).lexically_relative(root).string();
    auto before = target::read_in_root(root, real);
    if (!before)
        throw Error(fmt::format("{} does not exist in the image", path),
                    "install the package that provides it in an earlier step (qcnl: "
                    "libsgx-dcap-default-qpl)");
    config::JsoncDocument doc(*before,
                              path); // throws PATH:LINE:COL on a broken file, which stays as it was
    std::vector<std::string> changes;
    for (const auto& [key, value] : s.spec["set"].items())
        if (doc.set(pointer_of(key), value))
            changes.push_back(fmt::format("{}: {} = {}", path, key, value.dump()));
    for (const auto& [key, host_port] : s.spec["replace_host"].items()) {
        auto ptr = pointer_of(key);
        if (!doc.value().contains(ptr) || !doc.value().at(ptr).is_string())
            throw Error(fmt::format("{}: '{}' is not a URL string in the file", path, key),
                        "replace_host changes the host of an existing URL; use 'set' to add a key");
        std::string old = doc.value().at(ptr).get<std::string>();
        std::string now = config::replace_url_host(old, host_port.get<std::string>());
        if (doc.set(ptr, now))
            changes.push_back(fmt::format("{}: {} {} -> {}", path, key, old, now));
    }
    if (changes.empty()) return {};
    auto st = target::lstat_in_root(root, real);
    if (!st) throw Error(fmt::format("{} vanished from the image while it was edited", path));
    target::WantedFile w;
    w.content = doc.text();
    w.mode = st->st_mode & 07777;
    w.owner = {st->st_uid, st->st_gid};
    target::ensure_file(root, real, w);
    return {changes};
}

} // namespace

const StepKind& json_edit_kind() {
    static const StepKind kind{
        .name = "json_edit",
        .summary = "Edit a JSON config file (comments allowed) as JSON.",
        .details = "`set` assigns values to keys (a key starting with / is a JSON pointer). "
                   "`replace_host` replaces only the host:port of URL-valued keys, keeping scheme "
                   "and path (e.g. pccs_url keeps /sgx/certification/v4/). The file may hold // "
                   "and /* */ comments and trailing or leading commas, as Intel's qcnl file does. "
                   "Only the bytes of a changed value are rewritten, so comments and layout are "
                   "kept; a new key is added after the last member in the file's comma style. A "
                   "`replace_host` of HOST alone keeps the URL's port. A file that is not JSON "
                   "with comments is an error naming line and column, and is left untouched.",
        .fields =
            {
                {.name = "path",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "The file in the image."},
                {.name = "set",
                 .type = FieldType::Any,
                 .default_value = nlohmann::json::object(),
                 .help = "key: value pairs to set."},
                {.name = "replace_host",
                 .type = FieldType::StringMap,
                 .default_value = nlohmann::json::object(),
                 .help = "key: HOST:PORT for URL values whose host and port change."},
            },
        .example =
            "json_edit:\n  path: /etc/sgx_default_qcnl.conf\n  set: {use_secure_cert: true}\n"
            "  replace_host: {pccs_url: \"pccs.baidubce.com:8081\"}\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                if (!s.spec["set"].is_object())
                    d.error(loc("set"), "'set' must be a mapping of key: value");
                if (s.spec["set"].empty() && s.spec["replace_host"].empty())
                    d.error(loc("path"), "json_edit changes nothing: give 'set' or 'replace_host'");
                for (const auto& [k, v] : s.spec["replace_host"].items()) {
                    std::string hp = v.get<std::string>();
                    auto colon = hp.rfind(':');
                    bool ok = !hp.empty() && hp.find('/') == std::string::npos &&
                              hp.find(' ') == std::string::npos;
                    if (ok && colon != std::string::npos) {
                        std::string port = hp.substr(colon + 1);
                        ok = !port.empty() && port.size() <= 5 && util::is_hex(port) &&
                             std::all_of(port.begin(), port.end(), ::isdigit) &&
                             std::stoi(port) <= 65535;
                    }
                    if (!ok)
                        d.error(loc("replace_host"),
                                fmt::format("'{}' is not HOST or HOST:PORT", hp),
                                "e.g. pccs.example.com:8081 (no scheme, no path)");
                }
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out;
                for (const auto& [k, v] : s.spec["set"].items())
                    out.push_back(
                        fmt::format("{}: set {} = {}", text(s.spec, "path"), k, v.dump()));
                for (const auto& [k, v] : s.spec["replace_host"].items())
                    out.push_back(fmt::format("{}: {} host:port -> {} (scheme and path kept)",
                                              text(s.spec, "path"), k, v.get<std::string>()));
                return out;
            },
        .apply = apply_json_edit,
    };
    return kind;
}

} // namespace ccbake::steps
