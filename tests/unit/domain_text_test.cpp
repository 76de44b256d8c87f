#include <gtest/gtest.h>

#include "domain/text_rules.hpp"

namespace tl {
namespace {

TEST(TextRulesTest, CountsCodePoints) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("é日🔑"), 3u);
  EXPECT_EQ(utf8_length(""), 0u);
}

TEST(TextRulesTest, RejectsMalformedUtf8) {
  EXPECT_FALSE(utf8_length("\x80"));
  EXPECT_FALSE(utf8_length("\xE6\x97"));          // truncated
  EXPECT_FALSE(utf8_length("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(utf8_length("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(utf8_length("\xE0\x80\xAF"));      // overlong
}

TEST(TextRulesTest, TrimsAsciiSpaceAndNoBreakSpace) {
  EXPECT_EQ(trim("  a b \t\n"), "a b");
  EXPECT_EQ(trim("\xC2\xA0x\xC2\xA0"), "x");
  EXPECT_EQ(trim("   "), "");
}

TEST(TextRulesTest, FindsControlCharacters) {
  EXPECT_TRUE(has_control_characters("a\tb"));
  EXPECT_TRUE(has_control_characters("\xE2\x81\xA6"));  // U+2066
  EXPECT_FALSE(has_control_characters("plain text, ünïcödé"));
}

}  // namespace
}  // namespace tl

TEST(DomainTextTest, ToValidUtf8ReplacesEachBadByteAndCutsOnCodePointBoundaries) {
  EXPECT_EQ(tl::to_valid_utf8("caf\xe9"), "caf\xEF\xBF\xBD");
  EXPECT_EQ(tl::to_valid_utf8("a\xC0\xAF" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");  // overlong '/'
  EXPECT_EQ(tl::to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(tl::to_valid_utf8("é日🔑"), "é日🔑");
  // A cut never splits a character: 5 bytes of "é日" (2 + 3) keep both, 4 keep only "é".
  EXPECT_EQ(tl::to_valid_utf8("é日🔑", 5), "é日");
  EXPECT_EQ(tl::to_valid_utf8("é日🔑", 4), "é");
  EXPECT_EQ(tl::to_valid_utf8(std::string(600, 'x'), 512).size(), 512u);
  EXPECT_TRUE(tl::utf8_length(tl::to_valid_utf8("\xF8\x88\x80\x80\x80 \xFF\xFE", 7)));
}
