#pragma once
// What ccbake's users of libarchive share: an owning handle for a read archive, copying an
// entry's data from a reader to a writer, and the
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

// Copies the current entry's data from `in` to `out` block by block (holes kept). Returns
// ARCHIVE_EOF when all was copied, else the failing call's code; `write_failed` tells which side.
inline int copy_data_blocks(struct archive* in, struct archive* out, bool& write_failed) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    int r;
    write_failed = false;
    while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
        if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK) {
            write_failed = true;
            return ARCHIVE_FATAL;
        }
    return r;
}

} // namespace ccbake::archive
