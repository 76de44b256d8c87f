#include "http/json_requests.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(JsonRequestsTest, CreateTokenAcceptsTheDocumentedShape) {
  auto r = parse_create_token(R"({"description":"CI","timeout":{"value":15,"unit":"days"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->description, "CI");
  EXPECT_EQ(r->timeout_days, 15);
}

TEST(JsonRequestsTest, CreateTokenRefusesEveryOtherShape) {
  const std::pair<const char*, ErrorCode> cases[] = {
      {"", ErrorCode::invalid_json},
      {"{", ErrorCode::invalid_json},
      {"[]", ErrorCode::invalid_json},
      {R"({"description":"CI","timeout":{"value":15}} x)", ErrorCode::invalid_json},
      {R"({"description":"a","description":"b","timeout":{"value":1}})", ErrorCode::invalid_json},
      {R"({"description":1,"timeout":{"value":15}})", ErrorCode::invalid_field},
      {R"({"description":"x","timeout":{"value":400,"value":15}})", ErrorCode::invalid_json},
      {R"({"description":"CI","timeout":15})", ErrorCode::invalid_field},
      {R"({"description":"CI","timeout":{"value":1.5}})", ErrorCode::invalid_field},
      {R"({"description":"CI","timeout":{"value":"15"}})", ErrorCode::invalid_field},
      {R"({"description":"CI","timeout":{"value":15,"unit":"hours"}})", ErrorCode::invalid_field},
      {R"({"description":"CI"})", ErrorCode::invalid_field},
      {R"({"timeout":{"value":15}})", ErrorCode::invalid_field},
      {R"({"description":"CI","timeout":{"value":15},"token":"tlk_x"})", ErrorCode::unknown_field},
      {R"({"description":"CI","timeout":{"value":15},"colour":"red"})", ErrorCode::unknown_field},
  };
  for (const auto& [body, code] : cases) {
    auto r = parse_create_token(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, code) << body;
  }
}

TEST(JsonRequestsTest, UpdateTokenFieldsAreOptionalButNotSettableCode) {
  auto r = parse_update_token(R"({"timeout":{"value":30,"unit":"days"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->description);
  EXPECT_EQ(r->timeout_days, 30);
  EXPECT_EQ(parse_update_token(R"({"code":"x"})").error().code, ErrorCode::unknown_field);
  EXPECT_EQ(parse_update_token(R"({"description":null})").error().code, ErrorCode::invalid_field);
}

TEST(JsonRequestsTest, IntrospectAcceptsFormAndJson) {
  EXPECT_EQ(parse_introspect_form("token=tlk_abc&token_type_hint=x").value(), "tlk_abc");
  EXPECT_EQ(parse_introspect_form("token=a%2Bb+c").value(), "a+b c");
  EXPECT_FALSE(parse_introspect_form("nothing=here").ok());
  EXPECT_EQ(parse_introspect_json(R"({"token":"tlk_abc","token_type_hint":"x"})").value(), "tlk_abc");
  EXPECT_FALSE(parse_introspect_json(R"({"token":5})").ok());
}

TEST(JsonRequestsTest, UsersAndLogin) {
  auto user = parse_create_user(R"({"username":"a","password":"p","groups":["auditors"]})");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->groups, std::vector<std::string>{"auditors"});
  EXPECT_FALSE(parse_create_user(R"({"username":"a","password":"p","groups":"auditors"})").ok());
  EXPECT_FALSE(parse_patch_user("{}").ok());
  EXPECT_TRUE(parse_patch_user(R"({"groups":[]})").ok());
  EXPECT_EQ(parse_login(R"({"username":"a"})").error().code, ErrorCode::invalid_field);
}

template <class T>
Status status_of(const Result<T>& r) {
  if (r.ok()) return {};
  return r.error();
}

// A lone surrogate escape is JSON syntax but no text: the answer names the field and says so,
// not "must be a string" (the old message, which named the wrong fault).
TEST(JsonRequestsTest, LoneSurrogateIsNamedAsInvalidText) {
  const std::pair<Status, std::string> cases[] = {
      {status_of(parse_revoke(R"({"reason":"\ud800"})")), "reason:"},
      {status_of(parse_create_token(R"({"description":"a\udc00b","timeout":{"value":1}})")), "description:"},
      {status_of(parse_update_token(R"({"description":"\ud800"})")), "description:"},
      {status_of(parse_create_user(R"({"username":"\ud800","password":"p"})")), "username:"},
      {status_of(parse_create_user(R"({"username":"a","password":"p","groups":["\udfff"]})")), "groups:"},
  };
  for (const auto& [status, field] : cases) {
    ASSERT_FALSE(status.ok()) << field;
    EXPECT_EQ(status.error().code, ErrorCode::invalid_field) << field;
    EXPECT_TRUE(status.error().message.starts_with(field)) << status.error().message;
    EXPECT_NE(status.error().message.find("valid UTF-8 text"), std::string::npos) << status.error().message;
  }
  // A value of another type keeps its message.
  EXPECT_EQ(parse_revoke(R"({"reason":5})").error().message, "reason: must be a string.");
  // A correct pair of surrogates is one character.
  EXPECT_EQ(parse_revoke(R"({"reason":"\ud83d\ude00"})").value(), "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace tl
