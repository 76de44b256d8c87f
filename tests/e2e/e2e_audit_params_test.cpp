// End to end: the audit routes' query strings. Times are RFC 3339 §5.6 at full precision, with
// two meanings (a window [since, until) on the audit routes, a point in time in as_of); seqs stop
// at 2^63-1; unknown filters, parameters and event types are refused by name.
#include "test_server.hpp"

namespace e2e {
namespace {

class AuditParamsE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));
  }
  // The events of GET /api/v1/audit`query`; fails the test unless it answers 200.
  Json events(const std::string& query) {
    const Response res = alice->get("/api/v1/audit" + query);
    if (res.status != 200) throw std::runtime_error("GET /api/v1/audit" + query + ": " + describe(res));
    return res.json()["events"];
  }
  std::optional<HttpClient> alice;
};

// "…26.282Z" with `digits` appended to the fraction: "…26.2829Z".
std::string finer(const std::string& at, const std::string& digits) {
  return at.substr(0, at.size() - 1) + digits + "Z";
}

TEST_F(AuditParamsE2E, WindowBoundsCompareAtFullPrecision) {
  const std::string id = create_token(*alice, "timed", 15)["id"].str();
  const Json created = events("?type=TokenCreated&token_id=" + id)[0];
  const std::int64_t seq = created["seq"].integer();
  const std::string at = created["at"].str();  // "…SS.mmmZ"
  const std::string from = "?after_seq=" + std::to_string(seq - 1);

  // until is exclusive: at .mmm9 the record at .mmm is before it; at .mmm it is not.
  const Json until_finer = events(from + "&until=" + finer(at, "9"));
  ASSERT_GE(until_finer.size(), 1u) << "until=" << finer(at, "9");
  EXPECT_EQ(until_finer[0]["seq"].integer(), seq);
  const Json before = events(from + "&until=" + at);  // kept alive for the loop
  for (const Json& e : before.items()) EXPECT_LT(unix_ms(e["at"].str()), unix_ms(at));
  // since is inclusive: at .mmm the record is in; at .mmm1 it is not.
  EXPECT_EQ(events(from + "&since=" + at)[0]["seq"].integer(), seq);
  const Json after = events(from + "&since=" + finer(at, "1"));
  for (const Json& e : after.items()) {
    EXPECT_GT(unix_ms(e["at"].str()), unix_ms(at)) << "since=" << finer(at, "1");
  }
  // The same instants in lower case and with an offset.
  std::string lower = finer(at, "9");
  lower[10] = 't';
  lower.back() = 'z';
  EXPECT_EQ(events(from + "&until=" + lower)[0]["seq"].integer(), seq) << lower;

  // as_of is a point in time: the token created at .mmm stood at .mmm and at .mmm9.
  for (const std::string& moment : {at, finer(at, "9")}) {
    const Response listed = alice->get("/api/v1/tokens?owner=alice&as_of=" + moment);
    ASSERT_EQ(listed.status, 200) << describe(listed);
    EXPECT_EQ(listed.json()["tokens"].size(), 1u) << "as_of=" << moment;
  }
}

// RFC 3339 §5.6: an offset is -23:59 to +23:59, minutes 00-59; date.h shifted these instead.
TEST_F(AuditParamsE2E, TimesOutsideRfc3339AreRefusedByName) {
  for (const char* name : {"since", "until"}) {
    for (const char* bad : {"2026-11-27T18:04:14%2B99:99", "2026-11-27T18:04:14%2B24:00", "2026-11-27T18:04:14%2B00:60",
                            "2026-11-27T18:04:14-24:00", "2026-11-27T18:04:60Z"}) {
      const Response res = alice->get(std::string("/api/v1/audit?") + name + "=" + bad);
      EXPECT_EQ(res.status, 400) << name << "=" << bad << ": " << describe(res);
      EXPECT_NE(res.json()["error"]["message"].str().find(name), std::string::npos) << res.body;
    }
  }
  const Response as_of = alice->get("/api/v1/tokens?owner=alice&as_of=2026-11-27T18:04:14%2B24:00");
  EXPECT_EQ(as_of.status, 400) << describe(as_of);
  EXPECT_EQ(alice->get("/api/v1/audit?since=2026-11-27T18:04:14%2B23:59").status, 200);
}

// 2^64-1 wrapped to 0 in after_seq + 1 and replayed the whole trail from seq 1.
TEST_F(AuditParamsE2E, SeqsPastTwoToTheSixtyThreeAreRefused) {
  for (const char* route : {"/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/export/manifest"}) {
    for (const char* bad : {"18446744073709551615", "9223372036854775808"}) {
      const Response res = alice->get(std::string(route) + "?after_seq=" + bad);
      EXPECT_EQ(res.status, 400) << route << " after_seq=" << bad << ": " << describe(res);
      EXPECT_NE(res.body.find("after_seq"), std::string::npos) << res.body;
    }
  }
  EXPECT_EQ(events("?after_seq=9223372036854775807").size(), 0u);
}

TEST_F(AuditParamsE2E, UnknownParametersAndTypesAreRefusedByName) {
  for (const char* route :
       {"/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/export/manifest", "/api/v1/audit/stream"}) {
    for (const char* query : {"?user=alice", "?tokenid=tok_x", "?actor=alice&user=alice"}) {
      const Response res = alice->get(std::string(route) + query);
      ASSERT_EQ(res.status, 400) << route << query << ": " << describe(res);
      const std::string message = res.json()["error"]["message"].str();
      const std::string named = std::string(query).find("tokenid") != std::string::npos ? "'tokenid'" : "'user'";
      EXPECT_NE(message.find(named), std::string::npos) << message;
      EXPECT_NE(message.find("token_id, actor, owner, type, since, until, after_seq"), std::string::npos) << message;
    }
    const Response type = alice->get(std::string(route) + "?type=TokenShown");
    ASSERT_EQ(type.status, 400) << route << ": " << describe(type);
    const std::string message = type.json()["error"]["message"].str();
    EXPECT_NE(message.find("'TokenShown'"), std::string::npos) << message;
    EXPECT_NE(message.find("TokenRevealed"), std::string::npos) << message;
  }
  const Response tokens = alice->get("/api/v1/tokens?owner=alice&as_of=2026-11-27T18:04:14Z&user=bob");
  ASSERT_EQ(tokens.status, 400) << describe(tokens);
  EXPECT_NE(tokens.json()["error"]["message"].str().find("'user'"), std::string::npos) << tokens.body;
  EXPECT_NE(tokens.json()["error"]["message"].str().find("owner, as_of"), std::string::npos) << tokens.body;
}

// The message of a 400, which must name `name`; fails the test on another status.
std::string refused(const Response& res, const std::string& what) {
  EXPECT_EQ(res.status, 400) << what << ": " << describe(res);
  return res.status == 400 ? res.json()["error"]["message"].str() : std::string{};
}

// An empty value read as "no filter" and answered with everything; a repeated parameter kept
// one value and silently dropped the other. Both are refused by name on every audit route.
TEST_F(AuditParamsE2E, EmptyAndRepeatedParametersAreRefusedByName) {
  for (const std::string route :
       {"/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/export/manifest", "/api/v1/audit/stream"}) {
    for (const std::string name : {"type", "actor", "token_id", "since", "until", "after_seq"}) {
      const std::string other = name == "actor" ? "type=TokenCreated" : "actor=alice";  // a valid neighbour
      for (const std::string& query : {"?" + name + "=", "?" + name, "?" + other + "&" + name + "="}) {
        const std::string message = refused(alice->get(route + query), route + query);
        EXPECT_NE(message.find("'" + name + "'"), std::string::npos) << route << query << ": " << message;
        EXPECT_NE(message.find("needs a value"), std::string::npos) << route << query << ": " << message;
      }
    }
    for (const std::string query :
         {"?type=TokenRevealed&type=Bogus", "?type=TokenRevealed&type=TokenRevealed", "?actor=alice&actor=bob",
          "?since=2026-01-01T00:00:00Z&since=bogus", "?after_seq=1&token_id=x&after_seq=2"}) {
      const std::string message = refused(alice->get(route + query), route + query);
      const std::string name = query.substr(1, query.find('=') - 1);
      EXPECT_NE(message.find("'" + name + "': given more than once"), std::string::npos)
          << route << query << ": " << message;
    }
  }
  for (const std::string query : {"?limit=5&limit=6", "?limit="}) {
    EXPECT_NE(refused(alice->get("/api/v1/audit" + query), query).find("'limit'"), std::string::npos) << query;
  }
  for (const std::string query : {"?format=csv&format=jsonl", "?head_seq=1&head_seq=2", "?format="}) {
    const std::string name = query.substr(1, query.find('=') - 1);
    EXPECT_NE(refused(alice->get("/api/v1/audit/export" + query), query).find("'" + name + "'"), std::string::npos)
        << query;
  }
  // What stays allowed: a bare "?" and one value of each.
  EXPECT_EQ(alice->get("/api/v1/audit?").status, 200);
  EXPECT_EQ(alice->get("/api/v1/audit?type=TokenCreated&actor=alice&limit=5").status, 200);
}

// GET /api/v1/tokens: the same rules for owner, as_of and expiring_within.
TEST_F(AuditParamsE2E, TokenListParametersAreNeitherEmptyNorRepeated) {
  for (const std::string query : {"?owner=", "?owner", "?as_of=", "?owner=alice&as_of=", "?expiring_within="}) {
    const std::string message = refused(alice->get("/api/v1/tokens" + query), query);
    EXPECT_NE(message.find("needs a value"), std::string::npos) << query << ": " << message;
  }
  for (const std::string query : {"?owner=alice&owner=bob", "?owner=alice&as_of=2026-11-27T18:04:14Z&as_of=bogus",
                                  "?expiring_within=7d&expiring_within=1d"}) {
    const std::string message = refused(alice->get("/api/v1/tokens" + query), query);
    EXPECT_NE(message.find("given more than once"), std::string::npos) << query << ": " << message;
  }
}

// curl sends a '+' unencoded, and a URL query reads it as a space: the refusal says how to send it.
TEST_F(AuditParamsE2E, AnUnencodedPlusInATimeIsExplained) {
  for (const std::string target :
       {"/api/v1/audit?since=2026-11-27T19:04:14+01:00", "/api/v1/audit/export?until=2026-11-27T19:04:14.5+01:00",
        "/api/v1/tokens?owner=alice&as_of=2026-11-27T19:04:14+01:00"}) {
    const std::string message = refused(alice->get(target), target);
    EXPECT_NE(message.find("%2B"), std::string::npos) << target << ": " << message;
  }
  // A time that is wrong for another reason gets no such hint.
  EXPECT_EQ(refused(alice->get("/api/v1/audit?since=yesterday"), "yesterday").find("%2B"), std::string::npos);
}

}  // namespace
}  // namespace e2e
