#include "fetch/dual_hasher.h"
#include "util/digest.h"

#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <random>

using ccbake::fetch::DualHasher;

TEST_CASE("two-thread digests equal the one-thread ones for any chunking") {
    std::mt19937 rng(7);
    std::string data(3 * (1 << 20) + 12345, '\0');
    for (auto& c : data)
        c = char(rng());
    for (size_t chunk : {size_t(1), size_t(4093), size_t(1) << 20, size_t(3) << 20, data.size()}) {
        if (chunk == 1 && data.size() > 100000) data.resize(100000); // byte-wise is slow
        DualHasher dual;
        ccbake::util::Hasher plain;
        for (size_t off = 0; off < data.size(); off += chunk) {
            size_t n = std::min(chunk, data.size() - off);
            dual.update(data.data() + off, n);
            plain.update(data.data() + off, n);
        }
        dual.finish();
        plain.finish();
        CHECK_MESSAGE(dual.md5_hex() == plain.md5_hex(), chunk);
        CHECK_MESSAGE(dual.sha256_hex() == plain.sha256_hex(), chunk);
        CHECK(dual.bytes() == plain.bytes());
    }
}

TEST_CASE("digests of nothing, and a hasher dropped unfinished") {
    DualHasher empty;
    empty.finish();
    CHECK(empty.md5_hex() == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(empty.sha256_hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    DualHasher dropped;
    dropped.update("abc", 3); // destructor must stop the worker cleanly
}

TEST_CASE("zero-copy feeding gives the same digests as update()") {
    std::string data(2 * (1 << 20) + 777, 'q');
    DualHasher a, b;
    a.update(data.data(), data.size());
    size_t off = 0;
    while (off < data.size()) {
        size_t room = 0;
        unsigned char* at = b.space(room);
        size_t n = std::min({room, data.size() - off, size_t(300000)});
        std::memcpy(at, data.data() + off, n);
        b.commit(n);
        off += n;
    }
    a.finish();
    b.finish();
    CHECK(a.sha256_hex() == b.sha256_hex());
    CHECK(a.md5_hex() == b.md5_hex());
    CHECK(b.bytes() == data.size());
}
