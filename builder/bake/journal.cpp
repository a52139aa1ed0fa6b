#include "bake/journal.h"

#include "target/in_root.h"
#include "util/error.h"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

Journal read_journal(const fs::path& root) {
    Journal j;
    auto text = target::read_in_root(root, kJournalPath);
    if (!text) return j;
    try {
        json doc = json::parse(*text);
        j.recipe = doc.value("recipe", "");
        for (const auto& s : doc.at("steps")) {
            JournalEntry e{s.at("name").get<std::string>(),
                           s.at("kind").get<std::string>(),
                           s.at("hash").get<std::string>(),
                           {}};
            if (s.contains("changes")) e.changes = s["changes"].get<std::vector<std::string>>();
            j.steps.push_back(std::move(e));
        }
    } catch (const json::exception& e) {
        throw Error(fmt::format("the bake journal {} is damaged: {}", kJournalPath, e.what()),
                    fmt::format("remove {} in the image to re-apply every step", kJournalPath));
    }
    return j;
}

void write_journal(const fs::path& root, const Journal& journal) {
    json steps = json::array();
    for (const auto& s : journal.steps)
        steps.push_back(
            {{"name", s.name}, {"kind", s.kind}, {"hash", s.hash}, {"changes", s.changes}});
    json doc = {{"format", 1}, {"recipe", journal.recipe}, {"steps", steps}};
    target::write_in_root(root, kJournalPath, doc.dump(2) + "\n");
}

size_t applied_prefix(const Journal& journal, const std::vector<recipe::Step>& steps) {
    size_t n = 0;
    while (n < steps.size() && n < journal.steps.size() && steps[n].hash == journal.steps[n].hash)
        ++n;
    return n;
}

} // namespace ccbake::bake
