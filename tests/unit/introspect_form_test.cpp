// Issue 12, case 10: a form body with two `token` parameters is refused like the JSON twin with a
// repeated field, instead of introspecting whichever came first.
#include <gtest/gtest.h>

#include "http/json_requests.hpp"

namespace tl {
namespace {

TEST(IntrospectFormTest, RepeatedTokenParameterIsRefusedNamingToken) {
  auto twice = parse_introspect_form("token=tl_valid&token=junk");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::invalid_field);
  EXPECT_EQ(twice.error().message, "token: given more than once.");
  EXPECT_FALSE(parse_introspect_form("token=junk&token_type_hint=access_token&token=tl_valid").ok());
}

TEST(IntrospectFormTest, OneTokenWithHintsIsAccepted) {
  EXPECT_EQ(parse_introspect_form("token_type_hint=access_token&token=tl_a%2Bb").value(), "tl_a+b");
  EXPECT_EQ(parse_introspect_form("token=").value(), "");
}

}  // namespace
}  // namespace tl
