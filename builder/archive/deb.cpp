#include "archive/deb.h"

#include "archive/libarchive.h"
#include "util/error.h"
#include "util/strings.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <memory>

namespace fs = std::filesystem;

namespace ccbake::archive {

namespace {

std::string read_all(struct archive* a) {
    std::string out;
    char buf[64 * 1024];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    if (n < 0) throw Error(fmt::format("cannot read archive member: {}", error_text(a)));
    return out;
}

Error not_a_deb(const fs::path& deb, const std::string& why) {
    return Error(fmt::format("{} is not a Debian package: {}", deb.filename().string(), why),
                 "check that the artifact is the .deb the recipe names");
}

} // namespace

std::vector<std::map<std::string, std::string>> parse_paragraphs(const std::string& text) {
    std::vector<std::map<std::string, std::string>> out(1);
    std::string last;
    for (const auto& line : util::split(text, '\n')) {
        if (util::trim(line).empty()) {
            if (!out.back().empty()) out.emplace_back();
            last.clear();
            continue;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !last.empty()) {
            out.back()[last] += "\n" + util::trim(line);
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        last = util::trim(line.substr(0, colon));
        out.back()[last] = util::trim(line.substr(colon + 1));
    }
    if (out.back().empty()) out.pop_back();
    return out;
}

std::map<std::string, std::string> parse_control(const std::string& text) {
    auto paragraphs = parse_paragraphs(text);
    return paragraphs.empty() ? std::map<std::string, std::string>{} : paragraphs.front();
}

std::map<std::string, std::string> deb_control(const fs::path& deb) {
    ReadPtr outer(archive_read_new(), archive_read_free);
    archive_read_support_format_ar(outer.get());
    if (archive_read_open_filename(outer.get(), deb.c_str(), 64 * 1024) != ARCHIVE_OK)
        throw not_a_deb(deb, error_text(outer.get()));
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(outer.get(), &e)) == ARCHIVE_OK) {
        const char* member = archive_entry_pathname(e);
        std::string name = member ? member : "";
        if (!util::starts_with(name, "control.tar")) continue;
        std::string data = read_all(outer.get());
        ReadPtr inner(archive_read_new(), archive_read_free);
        archive_read_support_format_tar(inner.get());
        archive_read_support_filter_all(inner.get());
        if (archive_read_open_memory(inner.get(), data.data(), data.size()) != ARCHIVE_OK)
            throw not_a_deb(deb, fmt::format("{}: {}", name, error_text(inner.get())));
        archive_entry* c = nullptr;
        while (archive_read_next_header(inner.get(), &c) == ARCHIVE_OK) {
            const char* inner_path = archive_entry_pathname(c);
            std::string path = inner_path ? inner_path : "";
            if (path == "./control" || path == "control")
                return parse_control(read_all(inner.get()));
        }
        throw not_a_deb(deb, fmt::format("{} holds no control file", name));
    }
    throw not_a_deb(deb, rc == ARCHIVE_EOF ? "no control.tar member" : error_text(outer.get()));
}

} // namespace ccbake::archive
