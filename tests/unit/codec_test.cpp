#include "eventstore/codec.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/time_format.hpp"

namespace tl {
namespace {

Record sample() {
  Record r;
  r.seq = 42;
  r.at = *parse_rfc3339("2026-11-27T18:04:14.107Z");
  r.stream = "tok_1";
  r.version = 3;
  r.actor = {"alice", Via::api_token, "tok_0"};
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
  EXPECT_EQ(back->actor.via, Via::api_token);
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
  const std::vector<Event> events = {TokenCreated{"a", "d", 1, "l", "s"},
                                     TokenDescriptionChanged{"x"},
                                     TokenTimeoutChanged{7},
                                     TokenRevealed{},
                                     TokenDeleted{"offboarding"},
                                     TokenUsed{*parse_rfc3339("2026-11-27T18:04:14.107Z"), "10.0.0.1"},
                                     UserCreated{"bob", {"auditors"}},
                                     UserGroupsChanged{{"admins"}},
                                     UserPasswordChanged{},
                                     UserDeleted{},
                                     UserDisabled{},
                                     UserEnabled{},
                                     BackupTaken{"3", 42, std::string(64, 'a'), true},
                                     TokenExpiryNotified{"7d", true},
                                     UserReauthenticated{},
                                     KeyCheckRecorded{std::string(32, 'c')},
                                     UserSignedIn{},
                                     UserSignInFailed{"alice", {}, "wrong_password"},
                                     UserSignInFailed{{}, std::string(64, 'b'), "unknown_user"},
                                     UserSignInFailed{{}, {}, "throttled", 41},
                                     SessionEnded{"alice", "idle"},
                                     AccessDenied{"POST", "/api/v1/tokens/{}/reveal", "/api/v1/tokens/tok_1/reveal",
                                                  404, "not_found", 1, Timestamp{std::chrono::milliseconds{1}}},
                                     AccessDenied{"GET", "/api/v1/tokens", {}, 403, "forbidden", 30, {}},
                                     AuditRead{"/api/v1/audit", "limit=5&type=TokenCreated"},
                                     AuditExported{"csv", "format=csv"},
                                     ServerStarted{"0.1.0", "abc1234", "tls=off", "ok: the whole log checked"},
                                     ServerStopped{"signal"}};
  std::set<std::size_t> types;
  for (const Event& event : events) types.insert(event.index());
  ASSERT_EQ(types.size(), std::variant_size_v<Event>) << "every event type";
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

// fuzz/findings/decode_record-accepts-malformed-json: On-Demand does not check values it skips,
// so malformed JSON in a field the codec passes over was accepted. Each of these must be refused.
TEST(CodecTest, RefusesMalformedJsonInFieldsItSkips) {
  Record r = sample();
  r.event = TokenRevealed{};  // data {} is never read: the decoder used to skip it whole
  encode_record(r);
  ASSERT_TRUE(decode_record(r.raw).ok());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string bad = r.raw;
    const auto at = bad.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    return bad;
  };
  // An unknown top-level field holding a broken atom, a broken array, a broken object.
  EXPECT_FALSE(decode_record(with(R"("schema":1,)", R"("schema":1,"x":nul!,)")).ok());
  EXPECT_FALSE(decode_record(with(R"("schema":1,)", R"("schema":1,"x":[1,tru],)")).ok());
  EXPECT_FALSE(decode_record(with(R"("schema":1,)", R"("schema":1,"x":{"a":fals},)")).ok());
  // Inside a data object the type does not read, and inside actor and source.
  EXPECT_FALSE(decode_record(with(R"("data":{})", R"("data":{"a":nulx})")).ok());
  EXPECT_FALSE(decode_record(with(R"("via":"api_token")", R"("via":"api_token","z":-)")).ok());
  EXPECT_FALSE(decode_record(with(R"("request_id":"req-1")", R"("request_id":"req-1","z":01)")).ok());
  // Bytes after the object.
  EXPECT_FALSE(decode_record(r.raw + "garbage").ok());
  EXPECT_FALSE(decode_record(r.raw + "{}").ok());
  // Well-formed unknown fields are still accepted (forward-compatible readers).
  EXPECT_TRUE(decode_record(with(R"("schema":1,)", R"("schema":1,"x":{"a":[null,true,1.5e3,"s"]},)")).ok());
  // The fuzzer's own input.
  EXPECT_FALSE(
      decode_record(
          R"({"schema":1,"seq":1,"at":"2026-11-27T22:07:45.984Z","type":"UserCreated","stream":"user:admin","version":1,"actor":{"user":"system","avi":"system"},"source":{"ip":null,"user_agent":null,"request_id":null},"token_id":null,"owner":nulmin","gro{"username":"amin","grooups":["admins"]},"prev_hash":"00000000000a49e69d65d8c7ade3de2022"})")
          .ok());
}

// A decoded record that is re-encoded decodes again (what the fuzzer's strict mode checks).
TEST(CodecTest, AcceptedRecordsSurviveReencoding) {
  Record r = sample();
  encode_record(r);
  std::string extra = r.raw;
  extra.replace(extra.find(R"("schema":1,)"), 11, R"("schema":1,"x":[{"y":null}],)");
  auto back = decode_record(extra);
  ASSERT_TRUE(back.ok()) << back.error().message;
  Record copy = *back;
  encode_record(copy);
  EXPECT_TRUE(decode_record(copy.raw).ok());
}

TEST(CodecTest, DecodingIntoAReusedRecordLeavesNothingBehind) {
  Record first = sample();  // actor token_id, TokenCreated with every field
  encode_record(first);
  Record second = sample();
  second.actor = {"bob", Via::session, {}};
  second.source = {"10.0.0.2", {}, {}};
  second.event = TokenDeleted{};
  encode_record(second);
  Record reused;
  ASSERT_TRUE(decode_record_into(first.raw, reused).ok());
  ASSERT_TRUE(decode_record_into(second.raw, reused).ok());
  auto fresh = decode_record(second.raw);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(reused.actor.token_id.empty());
  EXPECT_TRUE(reused.source.user_agent.empty());
  EXPECT_EQ(reused.actor.user, "bob");
  ASSERT_TRUE(std::holds_alternative<TokenDeleted>(reused.event));
  EXPECT_TRUE(std::get<TokenDeleted>(reused.event).reason.empty());
  EXPECT_EQ(reused.raw, fresh->raw);
  // The same type twice: fields of the first must not survive into the second.
  Record created = sample();
  created.event = TokenCreated{"alice", "", 3, "", ""};
  encode_record(created);
  ASSERT_TRUE(decode_record_into(first.raw, reused).ok());
  ASSERT_TRUE(decode_record_into(created.raw, reused).ok());
  const auto& e = std::get<TokenCreated>(reused.event);
  EXPECT_EQ(e.description, "");
  EXPECT_EQ(e.code_sealed, "");
  EXPECT_EQ(e.timeout_days, 3);
}

// The admin tool records who ran it from the operating system (issue 11): the login account,
// the host and sudo's hint, each beside the actor's user, each written only when set.
TEST(CodecTest, AdminToolActorFieldsRoundTrip) {
  Record r = sample();
  r.actor = {"carol", Via::admin_tool, {}, "carol-login", "host-1", "alice"};
  encode_record(r);
  EXPECT_NE(
      r.raw.find(
          R"("actor":{"user":"carol","via":"admin_tool","login_user":"carol-login","host":"host-1","sudo_user":"alice"})"),
      std::string::npos)
      << r.raw;
  auto back = decode_record(r.raw);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->actor.user, "carol");
  EXPECT_EQ(back->actor.login_user, "carol-login");
  EXPECT_EQ(back->actor.host, "host-1");
  EXPECT_EQ(back->actor.sudo_user, "alice");
  Record again = *back;
  encode_record(again);
  EXPECT_EQ(again.raw, r.raw);
  // A reused record does not keep them for the next record that has none.
  Record reused;
  Record plain = sample();
  encode_record(plain);
  ASSERT_TRUE(decode_record_into(r.raw, reused).ok());
  ASSERT_TRUE(decode_record_into(plain.raw, reused).ok());
  EXPECT_TRUE(reused.actor.login_user.empty());
  EXPECT_TRUE(reused.actor.host.empty());
  EXPECT_TRUE(reused.actor.sudo_user.empty());
}

// Records written before these fields existed keep their exact bytes, so their hashes hold.
TEST(CodecTest, ActorWithoutOsFieldsKeepsItsBytes) {
  Record r = sample();
  encode_record(r);
  EXPECT_NE(r.raw.find(R"("actor":{"user":"alice","via":"api_token","token_id":"tok_0"},"source")"), std::string::npos)
      << r.raw;
}

TEST(CodecTest, AdminToolActorFieldsAreDecodedStrictly) {
  Record r = sample();
  r.actor = {"carol", Via::admin_tool, {}, "carol", "host-1", {}};
  encode_record(r);
  auto with = [&](std::string_view from, std::string_view to) {
    std::string bad = r.raw;
    const auto at = bad.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    return bad;
  };
  ASSERT_TRUE(decode_record(r.raw).ok());
  EXPECT_FALSE(decode_record(with(R"("host":"host-1")", R"("host":"")")).ok());    // never written empty
  EXPECT_FALSE(decode_record(with(R"("host":"host-1")", R"("host":1)")).ok());     // not a string
  EXPECT_FALSE(decode_record(with(R"("host":"host-1")", R"("host":null)")).ok());  // not a string
  EXPECT_FALSE(decode_record(with(R"("login_user":"carol")", R"("login_user":[])")).ok());
  EXPECT_FALSE(decode_record(with(R"("host":"host-1")", R"("host":"h","sudo_user":"")")).ok());
}

}  // namespace
}  // namespace tl
