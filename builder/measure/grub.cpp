#include "measure/grub.h"

#include "measure/pe.h"
#include "util/digest.h"
#include "util/strings.h"

#include <cstring>
#include <fmt/format.h>

namespace ccbake::measure {

// ---- the image: grub-mkimage's "mods" section (include/grub/kernel.h) ----

GrubImage read_grub_image(std::string_view pe, const std::string& what) {
    const auto mods = pe_section(pe, "mods", what);
    if (!mods || mods->size() < 24)
        throw MeasureError(fmt::format("{} has no grub module section (mods)", what));
    auto u32 = [&](std::uint64_t at) { return read_le<std::uint32_t>(*mods, at).value_or(0); };
    auto u64 = [&](std::uint64_t at) { return read_le<std::uint64_t>(*mods, at).value_or(0); };
    if (u32(0) != 0x676d696d) // "mimg"
        throw MeasureError(fmt::format("{}: its mods section has no module header", what));
    GrubImage g;
    const std::uint64_t end = std::min<std::uint64_t>(u64(16), mods->size());
    for (std::uint64_t at = u64(8); at + 8 <= end;) {
        const std::uint32_t type = u32(at), size = u32(at + 4);
        if (size < 8 || at + size > end) break;
        const std::string_view body = mods->substr(at + 8, size - 8);
        const std::string text(body.substr(0, body.find('\0')));
        if (type == 1) g.memdisk = std::string(body);
        if (type == 2) g.config = text;
        if (type == 3) g.prefix = text;
        if (type == 0 && body.size() >= 64 &&
            body.substr(0, 4) == "\x7f"
                                 "ELF") {
            // The module's name is its .modname section.
            auto e16 = [&](std::uint64_t o) { return read_le<std::uint16_t>(body, o).value_or(0); };
            auto e64 = [&](std::uint64_t o) { return read_le<std::uint64_t>(body, o).value_or(0); };
            const std::uint64_t shoff = e64(0x28);
            const std::uint16_t entsize = e16(0x3a), count = e16(0x3c), names = e16(0x3e);
            auto header = [&](std::uint16_t i) { return shoff + std::uint64_t(i) * entsize; };
            if (entsize >= 64 && names < count && header(count) <= body.size()) {
                const std::uint64_t strtab = e64(header(names) + 24);
                for (std::uint16_t i = 0; i < count; ++i) {
                    const std::uint32_t name = read_le<std::uint32_t>(body, header(i)).value_or(0);
                    if (strtab + name >= body.size()) continue;
                    const std::string_view n = body.substr(strtab + name);
                    if (n.substr(0, n.find('\0')) != ".modname") continue;
                    const std::uint64_t off = e64(header(i) + 24), len = e64(header(i) + 32);
                    if (off + len <= body.size()) {
                        const std::string_view m = body.substr(off, len);
                        g.modules.insert(std::string(m.substr(0, m.find('\0'))));
                    }
                }
            }
        }
        at += size;
    }
    return g;
}

// ---- the script: grub-core/script (lexer, parser, execute.c), the subset grub-mkconfig writes
// ----

namespace {

struct Part {
    std::string text;
    bool var = false, quoted = false;
};
struct Word {
    std::vector<Part> parts;
    bool block = false; // {...}: `text` of its one part is the block, braces included
};
struct Node;
using List = std::vector<Node>;
struct Node {
    enum Kind { Simple, If, Function } kind = Simple;
    std::vector<Word> words;
    std::vector<std::pair<List, List>> branches; // if/elif: condition, body
    List otherwise;
    std::string name, body; // function
};

bool word_end(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '\r';
}
bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Parser {
  public:
    explicit Parser(std::string_view s) : s_(s) {}

    List list(const std::set<std::string>& stop, std::string* stopped) {
        List out;
        for (;;) {
            skip_separators();
            if (at_ >= s_.size()) return out;
            const std::size_t start = at_;
            Word first;
            if (!read_word(first)) return out;
            const std::string kw = literal(first);
            if (stop.count(kw)) {
                if (stopped) *stopped = kw;
                return out;
            }
            if (kw == "if") {
                out.push_back(parse_if());
                continue;
            }
            if (kw == "function") {
                Node f;
                f.kind = Node::Function;
                skip_blank();
                Word name;
                read_word(name);
                f.name = literal(name);
                skip_blank();
                f.body = block_inner(read_block());
                out.push_back(std::move(f));
                continue;
            }
            at_ = start;
            out.push_back(simple());
        }
    }

  private:
    static std::string literal(const Word& w) {
        if (w.block || w.parts.size() != 1 || w.parts[0].var || w.parts[0].quoted) return "";
        return w.parts[0].text;
    }
    static std::string block_inner(const std::string& b) {
        return b.size() >= 2 ? b.substr(1, b.size() - 2) : "";
    }

    void skip_blank() {
        while (at_ < s_.size()) {
            if (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\r')
                ++at_;
            else if (s_[at_] == '\\' && at_ + 1 < s_.size() && s_[at_ + 1] == '\n')
                at_ += 2;
            else
                break;
        }
    }
    void skip_separators() {
        for (;;) {
            skip_blank();
            if (at_ < s_.size() && (s_[at_] == '\n' || s_[at_] == ';')) {
                ++at_;
                continue;
            }
            if (at_ < s_.size() && s_[at_] == '#') {
                while (at_ < s_.size() && s_[at_] != '\n')
                    ++at_;
                continue;
            }
            return;
        }
    }

    // A {...} block, braces included, as written (quotes and nesting respected).
    std::string read_block() {
        const std::size_t start = at_;
        int depth = 0;
        char quote = 0;
        for (; at_ < s_.size(); ++at_) {
            const char c = s_[at_];
            if (quote) {
                if (c == '\\' && quote == '"')
                    ++at_;
                else if (c == quote)
                    quote = 0;
                continue;
            }
            if (c == '\'' || c == '"')
                quote = c;
            else if (c == '\\')
                ++at_;
            else if (c == '{')
                ++depth;
            else if (c == '}' && --depth == 0) {
                ++at_;
                return std::string(s_.substr(start, at_ - start));
            }
        }
        throw MeasureError("grub.cfg: a { block has no closing }");
    }

    void variable(Word& w, bool quoted) {
        ++at_; // '$'
        std::string name;
        if (at_ < s_.size() && s_[at_] == '{') {
            const std::size_t close = s_.find('}', at_);
            if (close == std::string_view::npos) throw MeasureError("grub.cfg: ${ without }");
            name = std::string(s_.substr(at_ + 1, close - at_ - 1));
            at_ = close + 1;
        } else if (at_ < s_.size() && (s_[at_] == '?' || s_[at_] == '#' || s_[at_] == '@')) {
            name = std::string(1, s_[at_++]);
        } else {
            while (at_ < s_.size() && name_char(s_[at_]))
                name += s_[at_++];
            if (name.empty()) {
                w.parts.push_back({"$", false, quoted});
                return;
            }
        }
        w.parts.push_back({name, true, quoted});
    }

    bool read_word(Word& w) {
        skip_blank();
        if (at_ >= s_.size() || s_[at_] == '\n' || s_[at_] == ';') return false;
        if (s_[at_] == '{') {
            w.block = true;
            w.parts.push_back({read_block(), false, true});
            return true;
        }
        auto lit = [&](char c, bool quoted) {
            if (w.parts.empty() || w.parts.back().var || w.parts.back().quoted != quoted)
                w.parts.push_back({"", false, quoted});
            w.parts.back().text += c;
        };
        while (at_ < s_.size() && !word_end(s_[at_])) {
            const char c = s_[at_];
            if (c == '\'') {
                const std::size_t close = s_.find('\'', at_ + 1);
                if (close == std::string_view::npos) throw MeasureError("grub.cfg: unterminated '");
                w.parts.push_back({std::string(s_.substr(at_ + 1, close - at_ - 1)), false, true});
                at_ = close + 1;
            } else if (c == '"') {
                ++at_;
                w.parts.push_back({"", false, true}); // "" is an argument, even when empty
                while (at_ < s_.size() && s_[at_] != '"') {
                    if (s_[at_] == '$') {
                        variable(w, true);
                    } else if (s_[at_] == '\\' && at_ + 1 < s_.size() &&
                               std::strchr("$\"\\\n", s_[at_ + 1])) {
                        if (s_[at_ + 1] != '\n') lit(s_[at_ + 1], true);
                        at_ += 2;
                    } else {
                        lit(s_[at_++], true);
                    }
                }
                if (at_ >= s_.size()) throw MeasureError("grub.cfg: unterminated \"");
                ++at_;
            } else if (c == '$') {
                variable(w, false);
            } else if (c == '\\' && at_ + 1 < s_.size()) {
                if (s_[at_ + 1] != '\n') lit(s_[at_ + 1], false);
                at_ += 2;
            } else {
                lit(c, false);
                ++at_;
            }
        }
        return true;
    }

    Node simple() {
        Node n;
        Word w;
        while (read_word(w)) {
            n.words.push_back(std::move(w));
            w = Word{};
        }
        return n;
    }

    Node parse_if() {
        Node n;
        n.kind = Node::If;
        std::string kw;
        for (;;) {
            List cond = list({"then"}, &kw);
            if (kw != "then") throw MeasureError("grub.cfg: if without then");
            kw.clear();
            List body = list({"elif", "else", "fi"}, &kw);
            n.branches.emplace_back(std::move(cond), std::move(body));
            if (kw == "elif") continue;
            if (kw == "else") {
                kw.clear();
                n.otherwise = list({"fi"}, &kw);
            }
            if (kw != "fi") throw MeasureError("grub.cfg: if without fi");
            return n;
        }
    }

    std::string_view s_;
    std::size_t at_ = 0;
};

// ---- execution ----

struct Entry {
    std::string title, id, body;
    std::vector<std::string> params; // its positional arguments, the title first
};

class Interpreter {
  public:
    Interpreter(const GrubImage& image, const GrubDisk& disk, bool secure_boot)
        : image_(image), disk_(disk), secure_boot_(secure_boot) {
        const std::string boot = fmt::format("hd0,gpt{}", disk.boot_partition);
        env_["root"] = boot;
        env_["cmdpath"] = fmt::format("({}){}", boot, disk.loader_dir);
        env_["grub_platform"] = "efi";
        env_["grub_cpu"] = "x86_64";
        // grub-core/normal/main.c, features[] of 2.06.
        for (const char* f :
             {"feature_chainloader_bpb", "feature_ntldr", "feature_platform_search_hint",
              "feature_default_font_path", "feature_all_video_module", "feature_menuentry_id",
              "feature_menuentry_options", "feature_200_final", "feature_nativedisk_cmd",
              "feature_timeout_style"})
            env_[f] = "y";
        assign("prefix", fmt::format("({}){}", boot, image.prefix));
    }

    GrubRun run() {
        // The embedded config runs in grub's rescue parser, which measures nothing; Debian's and
        // Ubuntu's images hold one line, `normal (memdisk)/grub.cfg`: normal's script engine
        // then runs the memdisk's grub.cfg (not measured as a file: memdisk is exempt).
        auto words = util::split(util::trim(image_.config), ' ');
        if (words.size() == 2 && words[0] == "normal") {
            auto text = read_file(words[1]);
            if (!text)
                throw MeasureError("grub's embedded config names " + words[1] +
                                   ", which is not in its memdisk");
            source_text(*text);
        } else if (!util::trim(image_.config).empty()) {
            source_text(image_.config);
        } else {
            configfile(env_["prefix"] + "/grub.cfg");
        }
        boot();
        return std::move(out_);
    }

  private:
    // "(hd0,gptN)/path", "(memdisk)/path" or "/path" on $root.
    struct Where {
        int partition = -1; // -1: memdisk
        std::string path;
    };
    std::optional<Where> where(const std::string& name) {
        std::string device = env_["root"], path = name;
        if (!name.empty() && name[0] == '(') {
            const auto close = name.find(')');
            if (close == std::string::npos) return std::nullopt;
            device = name.substr(1, close - 1);
            path = name.substr(close + 1);
        }
        if (path.empty()) path = "/";
        if (device == "memdisk") return Where{-1, path};
        if (device.rfind("hd0,gpt", 0) != 0) return std::nullopt;
        try {
            return Where{std::stoi(device.substr(7)), path};
        } catch (...) {
            return std::nullopt;
        }
    }
    std::optional<std::string> read_file(const std::string& name) {
        const auto w = where(name);
        if (!w) return std::nullopt;
        return w->partition < 0 ? disk_.memdisk(w->path) : disk_.read(w->partition, w->path);
    }
    bool is_dir(const std::string& name) {
        const auto w = where(name);
        return w && w->partition >= 0 && disk_.is_dir(w->partition, w->path);
    }
    // Opens a file as grub's verifiers see it: measured unless on the memdisk.
    std::optional<std::string> open(const std::string& name) {
        auto data = read_file(name);
        if (data && where(name)->partition >= 0) event(9, name, *data);
        return data;
    }
    void event(int pcr, const std::string& what, const std::string& measured) {
        Event e;
        e.pcr = pcr;
        e.rtmr = 2;
        e.type = kEvIpl;
        e.digest = util::sha384(measured);
        e.what = what;
        out_.events.push_back(std::move(e));
    }
    void command_event(const std::string& text) { event(8, "grub_cmd: " + text, text); }

    void assign(const std::string& name, const std::string& value) {
        env_[name] = value;
        // normal.mod's hook on prefix reads the module lists (normal/main.c, read_lists).
        if (name == "prefix")
            for (const char* list : {"command.lst", "fs.lst", "crypto.lst", "terminal.lst"})
                open(value + "/x86_64-efi/" + list);
    }

    std::vector<std::string> expand(const std::vector<Word>& words) {
        std::vector<std::string> args;
        for (const auto& w : words) {
            if (w.block) {
                args.push_back(w.parts[0].text);
                continue;
            }
            bool only_unquoted_vars = true;
            std::string value;
            for (const auto& p : w.parts) {
                if (!p.var || p.quoted) only_unquoted_vars = false;
                value += p.var ? var(p.text) : p.text;
            }
            if (only_unquoted_vars) {
                // An unquoted expansion is split into words; an empty one is no argument.
                std::string cur;
                for (char c : value + " ") {
                    if (c == ' ' || c == '\t' || c == '\n') {
                        if (!cur.empty()) args.push_back(cur);
                        cur.clear();
                    } else {
                        cur += c;
                    }
                }
            } else {
                args.push_back(value);
            }
        }
        return args;
    }
    std::string var(const std::string& name) {
        if (name == "?") return std::to_string(status_);
        auto it = env_.find(name);
        return it == env_.end() ? "" : it->second;
    }

    int list(const List& l) {
        for (const auto& n : l) {
            status_ = node(n);
        }
        return status_;
    }
    int node(const Node& n) {
        if (n.kind == Node::Function) {
            functions_[n.name] = n.body;
            return 0;
        }
        if (n.kind == Node::If) {
            for (const auto& [cond, body] : n.branches)
                if (list(cond) == 0) return list(body);
            return n.otherwise.empty() ? 0 : list(n.otherwise);
        }
        return simple(expand(n.words));
    }

    int simple(const std::vector<std::string>& a) {
        if (a.empty()) return 0;
        command_event(util::join(a, " "));
        const std::string& c = a[0];
        // name=value
        if (const auto eq = c.find('='); eq != std::string::npos && eq > 0 && a.size() == 1 &&
                                         std::all_of(c.begin(), c.begin() + long(eq), name_char)) {
            assign(c.substr(0, eq), c.substr(eq + 1));
            return 0;
        }
        if (auto f = functions_.find(c); f != functions_.end()) return source_text(f->second);
        if (c == "[" || c == "test") return test(a) ? 0 : 1;
        if (c == "set") {
            for (std::size_t i = 1; i < a.size(); ++i)
                if (const auto eq = a[i].find('='); eq != std::string::npos)
                    assign(a[i].substr(0, eq), a[i].substr(eq + 1));
            return 0;
        }
        if (c == "unset") {
            for (std::size_t i = 1; i < a.size(); ++i)
                env_.erase(a[i]);
            return 0;
        }
        if (c == "true" || c == "export" || c == "echo" || c == "terminal_input" ||
            c == "terminal_output" || c == "save_env" || c == "setparams" || c == "serial" ||
            c == "terminal" || c == "gfxmode" || c == "recordfail")
            return 0;
        if (c == "false") return 1;
        if (c == "search" || c == "search.fs_uuid") return search(a);
        if (c == "source") return a.size() > 1 ? source_file(a[1]) : 1;
        if (c == "configfile") return a.size() > 1 ? configfile(a[1]) : 1;
        if (c == "load_env") return load_env(a);
        if (c == "insmod") return a.size() > 1 ? insmod(a[1]) : 1;
        if (c == "loadfont") {
            for (std::size_t i = 1; i < a.size(); ++i) {
                const std::string font = a[i].find('/') == std::string::npos
                                             ? env_["prefix"] + "/fonts/" + a[i] + ".pf2"
                                             : a[i];
                if (!open(font)) return 1;
            }
            return 0;
        }
        if (c == "menuentry" || c == "submenu") return menuentry(a);
        if (c == "linux" || c == "linuxefi") return linux(a);
        if (c == "initrd" || c == "initrdefi") {
            for (std::size_t i = 1; i < a.size(); ++i)
                if (!open(a[i]))
                    note(fmt::format("grub.cfg's initrd {} is not in the image", a[i]));
            return 0;
        }
        if (!unknown_.count(c)) {
            unknown_.insert(c);
            note(fmt::format("grub.cfg runs `{}`, which ccbake assumes succeeds and opens no file",
                             c));
        }
        return 0;
    }

    void note(std::string s) { out_.notes.push_back(std::move(s)); }

    bool test(std::vector<std::string> a) {
        if (a[0] == "[") {
            if (a.size() < 2 || a.back() != "]") return false;
            a.pop_back();
        }
        std::size_t i = 1;
        auto file_test = [&](const std::string& op, const std::string& f) {
            if (op == "-d") return is_dir(f);
            if (is_dir(f)) return op == "-e";
            const auto data = read_file(f);
            if (op == "-s") return data && !data->empty();
            return data.has_value(); // -e, -f
        };
        std::function<bool()> primary = [&]() -> bool {
            if (i >= a.size()) return false;
            if (a[i] == "!") {
                ++i;
                return !primary();
            }
            const std::string& t = a[i];
            if ((t == "-z" || t == "-n") && i + 1 < a.size()) {
                const bool empty = a[i + 1].empty();
                i += 2;
                return t == "-z" ? empty : !empty;
            }
            if ((t == "-e" || t == "-f" || t == "-d" || t == "-s") && i + 1 < a.size()) {
                const std::string f = a[i + 1];
                i += 2;
                return file_test(t, f);
            }
            if (i + 2 < a.size() && (a[i + 1] == "=" || a[i + 1] == "==" || a[i + 1] == "!=")) {
                const bool eq = a[i] == a[i + 2];
                const bool neg = a[i + 1] == "!=";
                i += 3;
                return neg ? !eq : eq;
            }
            return !a[i++].empty();
        };
        auto conj = [&]() {
            bool v = primary();
            while (i < a.size() && a[i] == "-a") {
                ++i;
                const bool r = primary();
                v = v && r;
            }
            return v;
        };
        bool v = conj();
        while (i < a.size() && a[i] == "-o") {
            ++i;
            const bool r = conj();
            v = v || r;
        }
        return v;
    }

    int search(const std::vector<std::string>& a) {
        std::string variable = "root", uuid;
        bool by_uuid = a[0] == "search.fs_uuid";
        std::vector<std::string> rest;
        for (std::size_t i = 1; i < a.size(); ++i) {
            if (a[i] == "--fs-uuid" || a[i] == "-u")
                by_uuid = true;
            else if (a[i].rfind("--set=", 0) == 0)
                variable = a[i].substr(6);
            else if (a[i] == "--set" || a[i] == "-s")
                variable = i + 1 < a.size() ? a[++i] : "root";
            else if (a[i].rfind("--", 0) == 0) {
                if (a[i] == "--hint" || a[i].rfind("--hint-", 0) == 0) ++i;
            } else
                rest.push_back(a[i]);
        }
        if (!by_uuid) {
            note(fmt::format("grub.cfg searches by {} ({}), which ccbake does not resolve",
                             a.size() > 1 ? a[1] : "?", util::join(a, " ")));
            return 1;
        }
        if (rest.empty()) return 1;
        uuid = util::to_lower(rest[0]);
        if (a[0] == "search.fs_uuid" && rest.size() > 1) variable = rest[1];
        const auto it = disk_.uuids.find(uuid);
        if (it == disk_.uuids.end()) return 1;
        assign(variable, fmt::format("hd0,gpt{}", it->second));
        return 0;
    }

    int source_text(const std::string& text) {
        Parser p(text);
        return list(p.list({}, nullptr));
    }
    int source_file(const std::string& name) {
        auto text = open(name);
        if (!text) return 1;
        return source_text(*text);
    }
    int configfile(const std::string& name) {
        auto text = open(name);
        if (!text) return 1;
        const auto slash = name.rfind('/');
        env_["config_file"] = name;
        env_["config_directory"] = slash == std::string::npos ? name : name.substr(0, slash);
        entries_.clear();
        return source_text(*text);
    }

    int load_env(const std::vector<std::string>& a) {
        std::string file = env_["prefix"] + "/grubenv";
        bool skip_sig = false;
        std::set<std::string> only;
        for (std::size_t i = 1; i < a.size(); ++i) {
            if ((a[i] == "-f" || a[i] == "--file") && i + 1 < a.size())
                file = a[++i];
            else if (a[i] == "-s" || a[i] == "--skip-sig")
                skip_sig = true;
            else
                only.insert(a[i]);
        }
        auto text = skip_sig ? read_file(file) : open(file);
        if (!text) return 1;
        for (const auto& line : util::split(*text, '\n')) {
            if (line.empty() || line[0] == '#') continue;
            const auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            const std::string name = line.substr(0, eq);
            if (only.empty() || only.count(name)) assign(name, line.substr(eq + 1));
        }
        return 0;
    }

    int insmod(const std::string& name) {
        if (image_.modules.count(name) || loaded_.count(name)) return 0;
        if (secure_boot_) {
            note(fmt::format("with Secure Boot, grub refuses to load module {} from disk", name));
            return 1;
        }
        loaded_.insert(name);
        if (!open(env_["prefix"] + "/x86_64-efi/" + name + ".mod")) return 1;
        note(fmt::format("grub loads module {} from disk (its dependencies are not modelled)",
                         name));
        return 0;
    }

    int menuentry(const std::vector<std::string>& a) {
        if (a.size() < 2 || a.back().empty() || a.back()[0] != '{') return 1;
        Entry e;
        std::vector<std::string> positional;
        for (std::size_t i = 1; i + 1 < a.size(); ++i) {
            if (a[i] == "--class" || a[i] == "--users" || a[i] == "--hotkey" || a[i] == "--id") {
                if (a[i] == "--id" && i + 2 < a.size()) e.id = a[i + 1];
                ++i;
            } else if (a[i].rfind("--", 0) == 0) {
                continue;
            } else {
                positional.push_back(a[i]);
            }
        }
        if (positional.empty()) return 1;
        e.title = positional[0];
        e.params = positional;
        // menuentry.c prefixes an entry's code with `setparams` and its arguments, quoted.
        e.body = a.back().substr(1, a.back().size() - 2);
        entries_.push_back(e);
        return 0;
    }

    int linux(const std::vector<std::string>& a) {
        if (a.size() < 2) return 1;
        if (!open(a[1])) {
            note(fmt::format("grub.cfg's kernel {} is not in the image", a[1]));
            return 1;
        }
        // grub_create_loader_cmdline: arguments joined by spaces; one with a space is quoted.
        std::vector<std::string> line;
        for (std::size_t i = 1; i < a.size(); ++i) {
            std::string arg;
            for (char ch : a[i]) {
                if (ch == '"' || ch == '\\' || ch == '\'') arg += '\\';
                arg += ch;
            }
            line.push_back(a[i].find(' ') != std::string::npos ? "\"" + arg + "\"" : arg);
        }
        const std::string text = util::join(line, " ");
        event(8, "kernel_cmdline: " + text, text);
        return 0;
    }

    void boot() {
        if (entries_.empty()) throw MeasureError("grub.cfg defines no menu entry to boot");
        std::string d = env_.count("default") ? env_["default"] : "0";
        if (d == "saved") d = env_["saved_entry"];
        std::size_t pick = 0;
        bool found = false;
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i].title == d || entries_[i].id == d) {
                pick = i;
                found = true;
                break;
            }
        if (!found && !d.empty() && std::all_of(d.begin(), d.end(), ::isdigit) &&
            std::stoul(d) < entries_.size())
            pick = std::stoul(d);
        else if (!found && !d.empty() && d != "0")
            note(fmt::format("grub's default entry {} is not a top-level entry: predicted is the "
                             "first",
                             d));
        const Entry& e = entries_[pick];
        out_.entry = e.title;
        std::vector<std::string> setparams = {"setparams"};
        setparams.insert(setparams.end(), e.params.begin(), e.params.end());
        simple(setparams);
        source_text(e.body);
    }

    const GrubImage& image_;
    const GrubDisk& disk_;
    bool secure_boot_;
    std::map<std::string, std::string> env_;
    std::map<std::string, std::string> functions_;
    std::vector<Entry> entries_;
    std::set<std::string> loaded_, unknown_;
    int status_ = 0;
    GrubRun out_;
};

} // namespace

GrubRun run_grub(const GrubImage& image, const GrubDisk& disk, bool secure_boot) {
    return Interpreter(image, disk, secure_boot).run();
}

} // namespace ccbake::measure
