#pragma once
// A YAML document as a tree that remembers where each value came from (file, line,
// column), so that every later check can point at the user's text. Maps keep their
// key order and their duplicates (a duplicate key is a diagnostic, not a silent overwrite).
#include "recipe/diagnostics.h"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ccbake::recipe {

struct MapEntry;

struct Node {
    enum class Kind { Null, Scalar, Map, Seq };
    Kind kind = Kind::Null;
    std::string scalar;
    bool quoted = false;       // scalar was written in quotes (affects caret columns only)
    std::vector<MapEntry> map; // key, value in the file's order
    std::vector<Node> seq;
    Location where;

    bool is_map() const { return kind == Kind::Map; }
    bool is_seq() const { return kind == Kind::Seq; }
    bool is_scalar() const { return kind == Kind::Scalar; }
    bool is_null() const { return kind == Kind::Null; }
    const Node* find(const std::string& key) const;
    Node* find(const std::string& key);
    std::string kind_name() const; // "a mapping", "a list", "a string", "nothing"
};

// One key and its value. A struct, not std::pair: a pair of the still incomplete Node inside
// Node is undefined behaviour that clang rejects (a vector of an incomplete type is allowed).
struct MapEntry {
    Node first;  // the key
    Node second; // the value
};

// Reads and parses one YAML file. Problems (missing, empty, binary, tabs, syntax) go to
// `diags`; returns std::nullopt when the file cannot be used at all.
std::optional<Node> load_yaml_file(const std::filesystem::path& path, Diagnostics& diags);

// Parses YAML text (used for `--set` values and tests); `name` labels diagnostics.
std::optional<Node> load_yaml_text(const std::string& text, const std::string& name,
                                   Diagnostics& diags);

} // namespace ccbake::recipe
