#include "recipe/node.h"

#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace ccbake::recipe {

const Node* Node::find(const std::string& key) const {
    for (const auto& [k, v] : map)
        if (k.scalar == key) return &v;
    return nullptr;
}

Node* Node::find(const std::string& key) {
    for (auto& [k, v] : map)
        if (k.scalar == key) return &v;
    return nullptr;
}

std::string Node::kind_name() const {
    switch (kind) {
    case Kind::Null:
        return "nothing";
    case Kind::Scalar:
        return fmt::format("'{}'", scalar.size() > 40 ? scalar.substr(0, 40) + "..." : scalar);
    case Kind::Map:
        return "a mapping";
    case Kind::Seq:
        return "a list";
    }
    return "?";
}

namespace {

Node convert(const YAML::Node& y, const std::string& file, const Location& parent) {
    Node n;
    const auto mark = y.Mark();
    if (mark.line >= 0)
        n.where = {file, mark.line + 1, mark.column + 1};
    else
        n.where = parent;
    switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
        n.kind = Node::Kind::Null;
        break;
    case YAML::NodeType::Scalar:
        n.kind = Node::Kind::Scalar;
        n.scalar = y.Scalar();
        n.quoted = y.Tag() == "!";
        break;
    case YAML::NodeType::Sequence:
        n.kind = Node::Kind::Seq;
        for (const auto& item : y)
            n.seq.push_back(convert(item, file, n.where));
        break;
    case YAML::NodeType::Map:
        n.kind = Node::Kind::Map;
        for (const auto& kv : y) {
            Node key = convert(kv.first, file, n.where);
            Node value = convert(kv.second, file, key.where);
            if (value.is_null() && key.where.line > 0) { // "key:" with nothing after it
                value.where = key.where;
                value.where.column += static_cast<int>(key.scalar.size()) + 1;
            }
            n.map.push_back({std::move(key), std::move(value)});
        }
        break;
    }
    return n;
}

// Problems yaml-cpp reports badly or not at all: binary data, invalid UTF-8, tabs used
// for indentation. Returns false when parsing should not even be attempted.
bool prescan(const std::string& text, const std::string& name, Diagnostics& diags) {
    int line = 1, col = 1;
    bool at_indent = true;
    bool ok = true;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == 0) {
            diags.error({name, line, col}, "this is not a text file (it contains a NUL byte)",
                        "a recipe is a YAML text file");
            return false;
        }
        if (c >= 0x80) {
            const size_t length = util::utf8_sequence_length(text, i);
            const bool valid = length > 0;
            if (!valid) {
                diags.error({name, line, col}, "invalid UTF-8 byte; the file is not text",
                            "a recipe is a UTF-8 YAML text file");
                return false;
            }
            i += length - 1;
            ++col;
            at_indent = false;
            continue;
        }
        if (c == '\n') {
            ++line;
            col = 1;
            at_indent = true;
            continue;
        }
        if (c == '\t' && at_indent) {
            diags.error({name, line, col}, "tab character in indentation",
                        "YAML indents with spaces only; replace the tab with spaces");
            ok = false;
            at_indent = false;
        } else if (c != ' ' && c != '-') {
            at_indent = false;
        }
        ++col;
    }
    return ok;
}

std::string capitalise_yaml_message(std::string msg) {
    if (!msg.empty()) msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
    return "YAML syntax: " + msg;
}

// Where the first documents of `text` start (at most two: enough to refuse a second one).
// Not YAML::LoadAll: yaml-cpp 0.7 (Debian 12's) never returns from it on some malformed input,
// e.g. a ',' where a node should start (jbeder/yaml-cpp#1040, fixed upstream after 0.8): it
// hands out the same empty document forever, its memory growing without bound. A second
// document that starts where the first did is that case. Throws YAML::Exception.
class DocumentStarts : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

std::vector<YAML::Mark> document_starts(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts events;
    while (events.starts.size() < 2 && parser.HandleNextDocument(events)) {
    }
    return events.starts;
}

} // namespace

std::optional<Node> load_yaml_text(const std::string& text, const std::string& name,
                                   Diagnostics& diags) {
    bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank) {
        diags.error({name, 1, 1}, "the recipe is empty",
                    "a recipe is a YAML mapping with at least 'name' and 'steps'");
        return std::nullopt;
    }
    if (!prescan(text, name, diags)) return std::nullopt;
    try {
        std::vector<YAML::Mark> starts = document_starts(text);
        if (starts.empty()) {
            diags.error({name, 1, 1}, "the recipe is empty",
                        "a recipe is a YAML mapping with at least 'name' and 'steps'");
            return std::nullopt;
        }
        if (starts.size() > 1 && starts[1].pos == starts[0].pos) {
            // yaml-cpp stuck on a token no node can start with (see document_starts).
            const YAML::Mark& m = starts[0];
            char c = m.pos >= 0 && static_cast<size_t>(m.pos) < text.size() ? text[m.pos] : '?';
            diags.error({name, m.line + 1, m.column + 1},
                        fmt::format("unexpected '{}' where a value should start", c),
                        "quote the value if the character belongs to it");
            return std::nullopt;
        }
        if (starts.size() > 1) {
            diags.error({name, starts[1].line + 1, 1},
                        "a recipe file holds one YAML document, this one has several",
                        "remove the '---' separator or split the file and use 'include'");
        }
        return convert(YAML::Load(text), name, {name, 1, 1});
    } catch (const YAML::Exception& e) {
        int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
        int col = e.mark.column >= 0 ? e.mark.column + 1 : 1;
        // The most common cause: ${var} inside [ ] or { } without quotes.
        std::string src = line <= static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1
                              ? util::split(text, '\n')[static_cast<size_t>(line - 1)]
                              : std::string();
        bool braces = src.find("${") != std::string::npos;
        diags.error(
            {name, line, col}, capitalise_yaml_message(e.msg),
            braces ? "quote values that contain ${...} inside [ ] or { }, e.g. [\"${name}\"]" : "");
        return std::nullopt;
    }
}

std::optional<Node> load_yaml_file(const std::filesystem::path& path, Diagnostics& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path.string(), 0, 0}, "cannot read the recipe file (does it exist?)");
        return std::nullopt;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return load_yaml_text(buf.str(), path.string(), diags);
}

} // namespace ccbake::recipe
