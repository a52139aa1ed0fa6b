#pragma once
// JSON with // and /* */ comments and stray commas (Intel's qcnl style), edited in place: a
// change rewrites only the bytes of that value, so comments and layout survive. Parse errors
// throw ccbake::Error with NAME:LINE:COL and leave the document untouched.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace ccbake::config {

class JsoncDocument {
  public:
    // Parses `text`; `name` (usually the file's path) prefixes error messages.
    JsoncDocument(std::string text, std::string name);

    const std::string& text() const { return text_; }
    // The data, comments dropped.
    const nlohmann::json& value() const { return value_; }

    // Sets the value at `where` ("/a/b" JSON pointer; parents must be objects that exist).
    // Keeps the text byte for byte when the value is already equal; returns whether it changed.
    bool set(const nlohmann::json::json_pointer& where, const nlohmann::json& value);

  private:
    struct Span {
        size_t begin = 0, end = 0; // the value's bytes [begin, end)
        // Objects only: where a new member goes and how members are separated.
        size_t last_member_end = 0; // end of the last member's value; 0 when empty
        bool leading_commas = false;
        std::string member_indent;
    };
    void parse();

    std::string text_;
    std::string name_;
    nlohmann::json value_;
    std::map<std::string, Span> spans_; // by JSON pointer ("" is the root)

    friend class JsoncParser;
};

// Replaces the host (and port, when `host_port` has one) of a URL, keeping scheme, user
// info and path: ("https://localhost:8081/sgx/certification/v4/", "pccs.example.com:8081")
// -> "https://pccs.example.com:8081/sgx/certification/v4/". Throws ccbake::Error when `url`
// has no scheme://host.
std::string replace_url_host(const std::string& url, const std::string& host_port);

} // namespace ccbake::config
