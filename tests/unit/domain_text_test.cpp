#include <gtest/gtest.h>

#include "domain/text_rules.hpp"
#include "domain/token.hpp"
#include "domain/user.hpp"

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
  EXPECT_EQ(tl::to_valid_utf8("a\xC0\xAF"
                              "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");                                                                        // overlong '/'
  EXPECT_EQ(tl::to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(tl::to_valid_utf8("é日🔑"), "é日🔑");
  // A cut never splits a character: 5 bytes of "é日" (2 + 3) keep both, 4 keep only "é".
  EXPECT_EQ(tl::to_valid_utf8("é日🔑", 5), "é日");
  EXPECT_EQ(tl::to_valid_utf8("é日🔑", 4), "é");
  EXPECT_EQ(tl::to_valid_utf8(std::string(600, 'x'), 512).size(), 512u);
  EXPECT_TRUE(tl::utf8_length(tl::to_valid_utf8("\xF8\x88\x80\x80\x80 \xFF\xFE", 7)));
}

// Issue 12, case 10: the one rule for one-line free text (descriptions, reasons, user names).
namespace tl {
namespace {

std::string line_error(std::string_view raw, std::size_t max = 200) {
  auto r = normalize_line(raw, "description", max, "must not be empty.");
  EXPECT_FALSE(r.ok()) << "accepted: " << raw;
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, ErrorCode::invalid_field);
  return r.error().message;
}

TEST(TextLineRuleTest, IdeographicSpacesAloneAreBlank) {
  EXPECT_EQ(line_error("\u3000\u3000"), "description: must not be empty.");
  EXPECT_EQ(line_error("\u00A0\u2003\u205F "), "description: must not be empty.");
}

// Found by an attacker's review: each passed the first version of the rule.
TEST(TextLineRuleTest, BlankLookingFormatPrivateAndLoneMarksAreRefused) {
  EXPECT_EQ(line_error("\u2800"), "description: must not be empty.");
  EXPECT_EQ(line_error("\u2800 \u2800"), "description: must not be empty.");
  EXPECT_EQ(line_error("\uFFF9x"), "description: holds U+FFF9 (an invisible format character).");
  EXPECT_EQ(line_error("\u0301"), "description: holds U+0301 (a combining mark with nothing to combine with).");
  EXPECT_EQ(line_error("\uE000"), "description: holds U+E000 (a private-use character).");
  EXPECT_EQ(line_error("a\U000E0080"), "description: holds U+E0080 (an unassigned code point).");
  // Marks after a base, and braille with dots, are text.
  EXPECT_EQ(normalize_line("Cafe\u0301 \u2801", "description", 200, "x").value(), "Caf\u00E9 \u2801");
}

TEST(TextLineRuleTest, TrimsEveryUnicodeWhiteSpaceButKeepsInnerOnes) {
  EXPECT_EQ(normalize_line("\u3000pay roll\u00A0\u2009", "description", 200, "x").value(), "pay roll");
  EXPECT_EQ(normalize_line("a\u3000b", "description", 200, "x").value(), "a\u3000b");
  EXPECT_EQ(trim("\u3000x\u2028"), "x");
}

TEST(TextLineRuleTest, ZeroWidthSpaceIsRefusedByName) {
  EXPECT_EQ(line_error("pay\u200broll"), "description: holds U+200B ZERO WIDTH SPACE (an invisible character).");
  EXPECT_NE(line_error("pay\u00ADroll").find("U+00AD SOFT HYPHEN"), std::string::npos);
  EXPECT_NE(line_error("\uFEFFpayroll").find("U+FEFF"), std::string::npos);
  EXPECT_NE(line_error("pay\u2060roll").find("U+2060 WORD JOINER"), std::string::npos);
}

TEST(TextLineRuleTest, BidiMarksAndControlsAreRefused) {
  for (const char* bidi : {"\u202E", "\u202A", "\u2066", "\u2069", "\u200E", "\u200F", "\u061C"}) {
    const std::string text = std::string("invoice") + bidi + "fdp.exe";
    EXPECT_NE(line_error(text).find("(a bidirectional control)"), std::string::npos) << text;
  }
  EXPECT_NE(line_error("x\u202Ey").find("U+202E RIGHT-TO-LEFT OVERRIDE"), std::string::npos);
}

TEST(TextLineRuleTest, ControlCharactersInsideAreRefused) {
  EXPECT_EQ(line_error("a\nb"), "description: holds U+000A LINE FEED (a control character).");
  EXPECT_NE(line_error("a\rb").find("U+000D CARRIAGE RETURN"), std::string::npos);
  EXPECT_NE(line_error(std::string("a\0b", 3)).find("U+0000 NULL"), std::string::npos);
  EXPECT_NE(line_error("a\x1b[31mb").find("U+001B ESCAPE"), std::string::npos);
  EXPECT_NE(line_error("a\tb").find("U+0009"), std::string::npos);
  EXPECT_NE(line_error("a\u0085b").find("U+0085"), std::string::npos);
  EXPECT_NE(line_error("a\u2028b").find("(a line break)"), std::string::npos);
}

TEST(TextLineRuleTest, FiftyKilobyteReasonWithControlsIsRefusedAndLengthIsCounted) {
  std::string reason = "left\r\n";
  reason += std::string("\0\x1b\u202E", 5);
  reason += std::string(50 * 1024, 'x');
  auto r = normalize_reason(reason);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("reason: holds U+000D CARRIAGE RETURN"), std::string::npos) << r.error().message;
  EXPECT_EQ(normalize_reason(std::string(50 * 1024, 'x')).error().message, "reason: at most 500 characters.");
  EXPECT_TRUE(normalize_reason(std::string(500, 'x')).ok());
  EXPECT_FALSE(normalize_reason(std::string(501, 'x')).ok());
}

TEST(TextLineRuleTest, NormalizesToNfc) {
  // "é" as e + COMBINING ACUTE ACCENT is stored as the one precomposed U+00E9.
  EXPECT_EQ(normalize_description("cafe\u0301").value(), "caf\u00E9");
  EXPECT_EQ(normalize_description(std::string(200, 'e') + "\u0301").value().size(), 201u);
}

TEST(TextLineRuleTest, EmojiVariationSelectorKeptAfterASymbolOnly) {
  EXPECT_EQ(normalize_description("deploy \u2764\uFE0F").value(), "deploy \u2764\uFE0F");
  EXPECT_NE(line_error("pay\uFE0Froll").find("U+FE0F"), std::string::npos);
}

TEST(TextLineRuleTest, UserNamesAreCaseFoldedAndCheckedByTheSameRule) {
  EXPECT_EQ(validate_username("Alice").value(), "alice");
  EXPECT_EQ(validate_username("\u3000ALICE ").value(), "alice");
  EXPECT_EQ(canonical_username(" ALICE"), "alice");
  auto invisible = validate_username("ali\u200bce");
  ASSERT_FALSE(invisible.ok());
  EXPECT_EQ(invisible.error().message, "username: holds U+200B ZERO WIDTH SPACE (an invisible character).");
  EXPECT_FALSE(validate_username("\u3000").ok());
  EXPECT_FALSE(validate_username(std::string(65, 'a')).ok());
}

TEST(TextLineRuleTest, CreatingAliceWhenAliceExistsConflicts) {
  UserState alice;
  apply(alice, UserCreated{"alice", {}}, Timestamp{});
  auto again = decide_create_user(alice, "Alice", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
}

}  // namespace
}  // namespace tl
