#include "util/strings.h"

#include <doctest/doctest.h>

using ccbake::util::utf8_sequence_length;

TEST_CASE("UTF-8: sequences as RFC 3629 allows them, and nothing else") {
    CHECK(utf8_sequence_length("a", 0) == 1);
    CHECK(utf8_sequence_length("\xc3\xa9", 0) == 2);         // é
    CHECK(utf8_sequence_length("\xe2\x82\xac", 0) == 3);     // €
    CHECK(utf8_sequence_length("\xf0\x9f\x98\x80", 0) == 4); // an emoji
    CHECK(utf8_sequence_length("\xc1\xa1", 0) == 0);         // overlong "a" (found by fuzzing)
    CHECK(utf8_sequence_length("\xe0\x80\xaf", 0) == 0);     // overlong "/"
    CHECK(utf8_sequence_length("\xed\xa0\x80", 0) == 0);     // a UTF-16 surrogate
    CHECK(utf8_sequence_length("\xf4\x90\x80\x80", 0) == 0); // above U+10FFFF
    CHECK(utf8_sequence_length("\xf5\x80\x80\x80", 0) == 0); // no such lead byte
    CHECK(utf8_sequence_length("\xc3", 0) == 0);             // cut short
    CHECK(utf8_sequence_length("\xe2\x82", 0) == 0);
    CHECK(utf8_sequence_length("\x80", 0) == 0); // a continuation byte alone
    CHECK(utf8_sequence_length("x\xc3\xa9", 1) == 2);
}
