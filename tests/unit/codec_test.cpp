#include <gtest/gtest.h>

#include "eventstore/codec.hpp"
#include "eventstore/time_format.hpp"

namespace tl {
namespace {

Record sample() {
  Record r;
  r.seq = 42;
  r.at = *parse_rfc3339("2026-11-27T18:04:14.107Z");
  r.stream = "tok_1";
  r.version = 3;
  r.actor = {"alice", "api_token", "tok_0"};
  r.source = {"127.0.0.1", "curl/8 \"quoted\"", "req-1"};
  r.token_id = "tok_1";
  r.owner = "alice";
  r.event = TokenCreated{"alice", "CI \\ pipeline", 15, "ab12", "cd34"};
  r.prev_hash = kGenesisHash;
  return r;
}

TEST(CodecTest, RoundTripKeepsEveryField) {
  Record r = sample();
  encode_record(r);
  auto back = decode_record(r.raw);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->at, r.at);
  EXPECT_EQ(back->stream, "tok_1");
  EXPECT_EQ(back->version, 3u);
  EXPECT_EQ(back->actor.user, "alice");
  EXPECT_EQ(back->actor.via, "api_token");
  EXPECT_EQ(back->actor.token_id, "tok_0");
  EXPECT_EQ(back->source.user_agent, "curl/8 \"quoted\"");
  EXPECT_EQ(back->owner, "alice");
  const auto& e = std::get<TokenCreated>(back->event);
  EXPECT_EQ(e.owner, "alice");
  EXPECT_EQ(e.description, "CI \\ pipeline");
  EXPECT_EQ(e.timeout_days, 15);
  EXPECT_EQ(e.code_sealed, "cd34");
  EXPECT_EQ(back->hash, r.hash);
  EXPECT_EQ(back->raw, r.raw);
}

TEST(CodecTest, EveryEventTypeRoundTrips) {
  const std::vector<Event> events = {TokenCreated{"a", "d", 1, "l", "s"}, TokenDescriptionChanged{"x"},
                                     TokenTimeoutChanged{7}, TokenRevealed{}, TokenDeleted{"offboarding"},
                                     TokenUsed{*parse_rfc3339("2026-11-27T18:04:14.107Z"), "10.0.0.1"},
                                     UserCreated{"bob", {"auditors"}}, UserGroupsChanged{{"admins"}},
                                     UserPasswordChanged{}, UserDeleted{}};
  for (const Event& event : events) {
    Record r = sample();
    r.event = event;
    encode_record(r);
    auto back = decode_record(r.raw);
    ASSERT_TRUE(back.ok()) << event_type(event);
    EXPECT_EQ(back->event.index(), event.index());
    Record again = *back;
    encode_record(again);
    EXPECT_EQ(again.raw, r.raw) << "re-encoding must give the same bytes: " << event_type(event);
  }
}

TEST(CodecTest, HashCoversTheStoredBytes) {
  Record r = sample();
  encode_record(r);
  EXPECT_TRUE(record_hash_matches(r.raw));
  std::string tampered = r.raw;
  tampered[tampered.find("alice")] = 'A';
  EXPECT_FALSE(record_hash_matches(tampered));
  EXPECT_FALSE(record_hash_matches("{}"));
}

TEST(CodecTest, HashChainsThroughPrevHash) {
  Record a = sample();
  encode_record(a);
  Record b = sample();
  b.prev_hash = a.hash;
  encode_record(b);
  EXPECT_NE(a.hash, b.hash);
  EXPECT_NE(b.raw.find(a.hash), std::string::npos);
}

TEST(CodecTest, RejectsUnknownSchemaAndGarbage) {
  Record r = sample();
  encode_record(r);
  std::string future = r.raw;
  future.replace(future.find("\"schema\":1"), 10, "\"schema\":9");
  EXPECT_FALSE(decode_record(future).ok());
  EXPECT_FALSE(decode_record("not json").ok());
  EXPECT_FALSE(decode_record(R"({"schema":1,"type":"Nope","data":{}})").ok());
}

TEST(TimeFormatTest, FormatsAndParsesRfc3339) {
  const auto t = parse_rfc3339("2026-11-27T18:04:14.107Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-27T18:04:14.107Z");
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:14Z"), *t - std::chrono::milliseconds{107});
  EXPECT_EQ(parse_rfc3339("2026-11-27T20:04:14.107+02:00"), t);
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("2026-11-27"));
  EXPECT_FALSE(parse_rfc3339("2026-11-27T18:04:14.107Zjunk"));
}

}  // namespace
}  // namespace tl
