// Actor::via as an enum while the log keeps its strings: the names are part of the disk format,
// and a record holding a name this build does not know still reads back to its very bytes.
#include <gtest/gtest.h>

#include "common/time_format.hpp"
#include "eventstore/codec.hpp"

namespace tl {
namespace {

Record with_actor(Actor actor) {
  Record r;
  r.seq = 7;
  r.at = *parse_rfc3339("2026-11-30T18:00:00.000Z");
  r.stream = "tok_1";
  r.version = 2;
  r.actor = std::move(actor);
  r.source = {"127.0.0.1", "curl/8", "req-1"};
  r.token_id = "tok_1";
  r.owner = "alice";
  r.event = TokenRevealed{};
  r.prev_hash = kGenesisHash;
  encode_record(r);
  return r;
}

TEST(ActorViaTest, StoredNamesNeverChange) {
  EXPECT_EQ(via_name(Via::session), "session");
  EXPECT_EQ(via_name(Via::api_token), "api_token");
  EXPECT_EQ(via_name(Via::admin_tool), "admin_tool");
  EXPECT_EQ(via_name(Via::system), "system");
  EXPECT_EQ(via_name(Via::other), "");
  for (Via via : {Via::session, Via::api_token, Via::admin_tool, Via::system}) {
    EXPECT_EQ(via_from_name(via_name(via)), via) << via_name(via);
  }
  EXPECT_EQ(via_from_name("Session"), Via::other);
  EXPECT_EQ(via_from_name(""), Via::other);
}

TEST(ActorViaTest, KnownNameIsWrittenAndReadAsTheEnum) {
  const Record r = with_actor({"alice", Via::api_token, "tok_0"});
  EXPECT_NE(r.raw.find(R"("actor":{"user":"alice","via":"api_token","token_id":"tok_0"})"), std::string::npos) << r.raw;
  auto back = decode_record(r.raw);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->actor.via, Via::api_token);
  EXPECT_EQ(back->actor.via_other, "");
  EXPECT_EQ(back->actor.stored_via(), "api_token");
}

// A name written by another build (or none at all) is kept as text and written back as it was,
// so the record's hash still checks and the appender's round-trip gate passes.
TEST(ActorViaTest, UnknownNameKeepsItsBytes) {
  for (std::string name : {"cli", "", "SESSION", "session "}) {
    Actor actor{"carol"};
    actor.via_other = name;
    const Record r = with_actor(actor);
    EXPECT_NE(r.raw.find(R"("via":")" + name + R"(")"), std::string::npos) << r.raw;
    auto back = decode_record(r.raw);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->actor.via, Via::other) << name;
    EXPECT_EQ(back->actor.stored_via(), name);
    Record again = *back;
    encode_record(again);
    EXPECT_EQ(again.raw, r.raw);
    EXPECT_TRUE(record_hash_matches(back->raw));
    RecordDecoder decoder;
    EXPECT_TRUE(check_round_trip(r, decoder).ok()) << name;
  }
}

// A decode into a reused record leaves nothing of the previous record's via behind.
TEST(ActorViaTest, ReusedRecordForgetsThePreviousName) {
  Actor unknown{"carol"};
  unknown.via_other = "cli";
  const Record first = with_actor(unknown);
  const Record second = with_actor({"alice", Via::session, {}});
  Record into;
  ASSERT_TRUE(decode_record_into(first.raw, into).ok());
  EXPECT_EQ(into.actor.stored_via(), "cli");
  ASSERT_TRUE(decode_record_into(second.raw, into).ok());
  EXPECT_EQ(into.actor.via, Via::session);
  EXPECT_EQ(into.actor.via_other, "");
  Record again = into;
  encode_record(again);
  EXPECT_EQ(again.raw, second.raw);
}

}  // namespace
}  // namespace tl
