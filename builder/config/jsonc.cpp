#include "config/jsonc.h"

#include "util/error.h"

#include <fmt/format.h>

namespace ccbake::config {

using nlohmann::json;

// Recursive descent over the text, recording the byte span of every value.
class JsoncParser {
  public:
    JsoncParser(const std::string& text, const std::string& name,
                std::map<std::string, JsoncDocument::Span>& spans)
        : s_(text), name_(name), spans_(spans) {}

    json document() {
        skip();
        json v = value("");
        skip();
        if (i_ < s_.size()) fail("unexpected text after the JSON value");
        return v;
    }

  private:
    [[noreturn]] void fail(const std::string& what, size_t at = std::string::npos) const {
        if (at == std::string::npos) at = i_;
        size_t line = 1, col = 1;
        for (size_t k = 0; k < at && k < s_.size(); ++k) {
            if (s_[k] == '\n')
                ++line, col = 1;
            else
                ++col;
        }
        throw Error(
            fmt::format("{}:{}:{}: {}", name_, line, col, what),
            "fix the file (JSON with // or /* */ comments), or replace it with a file step");
    }

    // Whitespace and comments.
    void skip() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++i_;
            } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
                while (i_ < s_.size() && s_[i_] != '\n')
                    ++i_;
            } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
                size_t end = s_.find("*/", i_ + 2);
                if (end == std::string::npos) fail("comment not closed (missing */)");
                i_ = end + 2;
            } else {
                break;
            }
        }
    }

    bool comma_starts_line(size_t at) const {
        size_t k = at;
        while (k > 0 && (s_[k - 1] == ' ' || s_[k - 1] == '\t'))
            --k;
        return k == 0 || s_[k - 1] == '\n';
    }

    std::string indent_of(size_t at) const {
        size_t start = s_.rfind('\n', at);
        start = start == std::string::npos ? 0 : start + 1;
        size_t k = start;
        while (k < at && (s_[k] == ' ' || s_[k] == '\t'))
            ++k;
        return s_.substr(start, k - start);
    }

    json value(const std::string& ptr) {
        if (i_ >= s_.size()) fail("unexpected end of file, a value was expected");
        size_t begin = i_;
        JsoncDocument::Span span;
        json v;
        char c = s_[i_];
        if (c == '{')
            v = object(ptr, span);
        else if (c == '[')
            v = array(ptr);
        else if (c == '"')
            v = string_value();
        else
            v = scalar();
        span.begin = begin;
        span.end = i_;
        spans_[ptr] = span;
        return v;
    }

    json object(const std::string& ptr, JsoncDocument::Span& span) {
        json obj = json::object();
        ++i_; // {
        skip();
        if (i_ < s_.size() && s_[i_] == ',') { // a stray leading comma
            ++i_;
            skip();
        }
        bool first = true;
        while (true) {
            if (i_ >= s_.size()) fail("object not closed (missing })");
            if (s_[i_] == '}') {
                ++i_;
                return obj;
            }
            if (!first) {
                if (s_[i_] != ',') fail("expected ',' or '}' after a member");
                if (comma_starts_line(i_)) span.leading_commas = true;
                ++i_;
                skip();
                if (i_ < s_.size() && s_[i_] == '}') { // trailing comma
                    ++i_;
                    return obj;
                }
            }
            if (i_ >= s_.size() || s_[i_] != '"') fail("expected a member name in double quotes");
            size_t key_at = i_;
            std::string key = string_value();
            if (obj.contains(key)) fail(fmt::format("duplicate key \"{}\"", key), key_at);
            skip();
            if (i_ >= s_.size() || s_[i_] != ':')
                fail(fmt::format("expected ':' after \"{}\"", key));
            ++i_;
            skip();
            obj[key] = value(ptr + "/" + escape_pointer(key));
            span.last_member_end = i_;
            span.member_indent = indent_of(key_at);
            skip();
            first = false;
        }
    }

    json array(const std::string& ptr) {
        json arr = json::array();
        ++i_; // [
        skip();
        bool first = true;
        while (true) {
            if (i_ >= s_.size()) fail("array not closed (missing ])");
            if (s_[i_] == ']') {
                ++i_;
                return arr;
            }
            if (!first) {
                if (s_[i_] != ',') fail("expected ',' or ']' after an element");
                ++i_;
                skip();
                if (i_ < s_.size() && s_[i_] == ']') {
                    ++i_;
                    return arr;
                }
            }
            arr.push_back(value(ptr + "/" + std::to_string(arr.size())));
            skip();
            first = false;
        }
    }

    json string_value() {
        size_t begin = i_++;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (s_[i_] == '\n') fail("string not closed on its line", begin);
            if (s_[i_] == '\\') ++i_;
            ++i_;
        }
        if (i_ >= s_.size()) fail("string not closed", begin);
        ++i_;
        try {
            return json::parse(s_.substr(begin, i_ - begin));
        } catch (const json::exception&) {
            fail("invalid string (bad escape)", begin);
        }
    }

    json scalar() {
        size_t begin = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '-' || s_[i_] == '+' || s_[i_] == '.'))
            ++i_;
        if (i_ == begin) fail(fmt::format("unexpected '{}'", s_[i_]));
        std::string word = s_.substr(begin, i_ - begin);
        try {
            return json::parse(word);
        } catch (const json::exception&) {
            fail(fmt::format("'{}' is not a JSON value", word), begin);
        }
    }

    static std::string escape_pointer(const std::string& key) {
        std::string out;
        for (char c : key) {
            if (c == '~')
                out += "~0";
            else if (c == '/')
                out += "~1";
            else
                out += c;
        }
        return out;
    }

    const std::string& s_;
    const std::string& name_;
    std::map<std::string, JsoncDocument::Span>& spans_;
    size_t i_ = 0;
};

JsoncDocument::JsoncDocument(std::string text, std::string name)
    : text_(std::move(text)), name_(std::move(name)) {
    parse();
}

void JsoncDocument::parse() {
    std::map<std::string, Span> spans;
    value_ = JsoncParser(text_, name_, spans).document();
    spans_ = std::move(spans);
}

bool JsoncDocument::set(const json::json_pointer& where, const json& value) {
    if (where.empty()) throw Error(fmt::format("{}: cannot replace the whole document", name_));
    std::string at = where.to_string();
    if (auto it = spans_.find(at); it != spans_.end()) {
        if (value_.at(where) == value) return false;
        std::string before = text_;
        text_.replace(it->second.begin, it->second.end - it->second.begin, value.dump());
        try {
            parse();
        } catch (...) {
            text_ = std::move(before);
            parse();
            throw;
        }
        return true;
    }
    std::string parent = where.parent_pointer().to_string();
    auto p = spans_.find(parent);
    if (p == spans_.end() || !value_.at(where.parent_pointer()).is_object())
        throw Error(fmt::format("{}: {} is not an object, cannot add {}", name_,
                                parent.empty() ? "the document" : parent, where.back()),
                    "set the parent object first, or check the key's spelling");
    const Span& obj = p->second;
    std::string member = json(where.back()).dump() + ": " + value.dump();
    if (obj.last_member_end == 0) {
        text_.insert(obj.begin + 1, "\n  " + member + "\n");
    } else if (obj.leading_commas) {
        text_.insert(obj.last_member_end, "\n" + obj.member_indent + "," + member);
    } else {
        text_.insert(obj.last_member_end, ",\n" + obj.member_indent + member);
    }
    parse();
    return true;
}

std::string replace_url_host(const std::string& url, const std::string& host_port) {
    size_t scheme = url.find("://");
    if (scheme == std::string::npos || scheme == 0)
        throw Error(fmt::format("'{}' is not a URL with scheme://host", url));
    size_t auth_begin = scheme + 3;
    size_t auth_end = url.find_first_of("/?#", auth_begin);
    if (auth_end == std::string::npos) auth_end = url.size();
    std::string authority = url.substr(auth_begin, auth_end - auth_begin);
    size_t at = authority.rfind('@');
    std::string userinfo = at == std::string::npos ? "" : authority.substr(0, at + 1);
    std::string hostport = at == std::string::npos ? authority : authority.substr(at + 1);
    if (hostport.empty()) throw Error(fmt::format("'{}' has no host", url));
    std::string replacement = host_port;
    // HOST alone keeps the URL's port.
    size_t old_colon = hostport.rfind(':');
    if (host_port.find(':') == std::string::npos && old_colon != std::string::npos &&
        hostport.back() != ']')
        replacement += hostport.substr(old_colon);
    return url.substr(0, auth_begin) + userinfo + replacement + url.substr(auth_end);
}

} // namespace ccbake::config
