#pragma once
// The command line: global options shared by every command, and one register function per
// command (each in cli/cmd_NAME.cpp). A command's callback stores its exit code in `exit_code`.
#include "fetch/fetch.h"
#include "recipe/recipe.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::cli {

struct Globals {
    std::string cache; // --cache; empty: the default of cache_dir()
    bool json = false; // --json: machine-readable events and results
    int verbose = 0;   // -v: more detail for people (see README); never changes --json output
    int exit_code = 0;

    std::filesystem::path cache_dir() const;
};

// Adds `--set name=value` (repeatable) to a command.
void add_set_option(CLI::App& cmd, std::vector<std::string>& sets);
// Parses the --set values; a malformed one is a usage error.
std::map<std::string, std::string> parse_sets(const std::vector<std::string>& sets);
// -v of fetch and lock: each artifact's name and its file in the cache, on stdout.
void print_artifact_paths(const std::map<std::string, fetch::Fetched>& fetched);
// Whether a recipe is loaded with the pins of RECIPE.lock: every command but `lock --update`,
// which pins anew.
enum class Pins { FromLock, None };
// Loads a recipe, RECIPE.lock's pins applied before hashing (the one place they are applied,
// so plan, fetch, lock and bake agree), or throws UsageError after printing every diagnostic
// to stderr.
recipe::Recipe load_or_die(const std::string& path, const std::vector<std::string>& sets,
                           Pins pins = Pins::FromLock);

// Each command file registers itself at start-up (the core is linked as object files, so
// no registration is dropped):  static const CommandRegistrar reg(20, register_plan);
// `order` sorts the commands in --help.
using RegisterFn = void (*)(CLI::App&, Globals&);
struct CommandRegistrar {
    CommandRegistrar(int order, RegisterFn fn);
};

// Builds the whole command line.
void build_app(CLI::App& app, Globals& g);

} // namespace ccbake::cli
