#pragma once
// What ccbake's users of libarchive share: an owning handle for a read archive, and the
// library's error text, which libarchive leaves NULL for some failures (a damaged archive can
// fail without one) and which must never reach fmt or std::string as a null pointer.
#include <archive.h>
#include <memory>
#include <string>

namespace ccbake::archive {

using ReadPtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

inline std::string error_text(struct archive* a) {
    const char* text = a ? archive_error_string(a) : nullptr;
    return text ? text : "unknown error (libarchive gave no reason)";
}

} // namespace ccbake::archive
