// UTF-8 validity by the Unicode standard's table of well-formed sequences.
#include "base/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ws {
namespace {

TEST(Utf8, WellFormedTextHasNoInvalidByte) {
  EXPECT_FALSE(first_invalid_utf8(""));
  EXPECT_FALSE(first_invalid_utf8("plain ASCII"));
  EXPECT_FALSE(first_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
}

TEST(Utf8, EachIllFormedSequenceIsFoundAtItsFirstByte) {
  EXPECT_EQ(first_invalid_utf8("caf\xE9"), 3u);                  // Latin-1
  EXPECT_EQ(first_invalid_utf8("ab\xC3"), 2u);                   // cut short
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0u);                 // overlong '/'
  EXPECT_EQ(first_invalid_utf8("x\xE0\x80\xAF"), 1u);            // overlong, 3 bytes
  EXPECT_EQ(first_invalid_utf8("\xED\xA0\x80"), 0u);             // a surrogate
  EXPECT_EQ(first_invalid_utf8("ok\xF4\x90\x80\x80"), 2u);       // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xE2\x82"), 0u);                 // 2 of 3 bytes
  EXPECT_EQ(first_invalid_utf8("a\x80"), 1u);                    // a lone continuation
  EXPECT_EQ(first_invalid_utf8(std::string("a\0\xFF", 3)), 2u);  // NUL is well-formed
}

}  // namespace
}  // namespace ws
