// Issue 16 on a data directory edited with `ldb`: as-of lists answer the same from a directory
// without the audit index's owner keys (an earlier release's; read-only, the log is folded) and
// after the start that back-fills them; GET /api/v1/audit/verify between full checks finds damage
// after its basis by its walk, and damage before it by ?full=true.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/hex.hpp"
#include "eventstore/event_log.hpp"
#include "ldb_tool.hpp"
#include "test_server.hpp"

namespace {

using e2e::HttpClient;
using e2e::Json;
using namespace faults;

const std::string kMarker = "#owner-index-complete";  // AuditIndex::kOwnerIndexMarker

class FaultVerifyAsOf : public ::testing::Test {
 protected:
  // alice (auditor) and carol hold tokens that are created, edited, shown and deleted; a
  // checkpoint is signed part-way (at mid_) and one at shutdown.
  void SetUp() override {
    server_.start({.extra_args = {"--scrub-hours", "0"}});
    HttpClient admin = e2e::login(server_, "admin");
    e2e::create_user(admin, "alice", {"api-tokens", "auditors"});
    e2e::create_user(admin, "carol", {"api-tokens"});
    HttpClient alice = e2e::login(server_, "alice");
    HttpClient carol = e2e::login(server_, "carol");
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(e2e::create_token(carol, "carol " + std::to_string(i))["id"].str());
    ids.push_back(e2e::create_token(alice, "alice 0")["id"].str());
    e2e::reveal(carol, ids[0]);
    const auto signed_mid = alice.post("/api/v1/audit/checkpoints");
    ASSERT_EQ(signed_mid.status, 201) << e2e::describe(signed_mid);
    mid_ = static_cast<std::uint64_t>(signed_mid.json()["seq"].integer());
    ASSERT_EQ(carol
                  .patch("/api/v1/tokens/" + ids[1], R"({"description":"carol 1, edited"})",
                         {{"Content-Type", "application/json"}})
                  .status,
              200);
    ASSERT_EQ(carol.del("/api/v1/tokens/" + ids[2]).status, 204);
    e2e::create_token(carol, "carol 3");
    e2e::reveal(alice, ids[3]);
    const Json trail = alice.get("/api/v1/audit?limit=1000").json();  // kept alive for the loop
    for (const auto& e : trail["events"].items()) times_.push_back(e["at"].str());
    ASSERT_GT(times_.size(), 10u);
    head_ = static_cast<std::uint64_t>(alice.get("/api/v1/audit/verify").json()["head"]["seq"].integer());
    ASSERT_EQ(server_.stop(), 0);
    data_ = server_.data_dir();
  }

  // Damage a verify request found is damage as the scrub's is: no checkpoint is signed over it,
  // writes are refused and /readyz names it (found by an attacker's try of issue 16: the server
  // went on signing and writing).
  void expect_damage_refused(HttpClient& auditor, std::uint64_t seq) {
    const auto signed_over = auditor.post("/api/v1/audit/checkpoints");
    EXPECT_EQ(signed_over.status, 503) << e2e::describe(signed_over);
    const auto created =
        auditor.post("/api/v1/tokens", R"({"description":"after the damage","timeout":{"value":5,"unit":"days"}})",
                     {{"Content-Type", "application/json"}});
    EXPECT_EQ(created.status, 503) << e2e::describe(created);
    const auto ready = server_.client().get("/readyz");
    EXPECT_EQ(ready.status, 503) << e2e::describe(ready);
    EXPECT_EQ(ready.json()["damage"]["seq"].integer(), static_cast<std::int64_t>(seq)) << ready.body;
  }

  // Every as-of list of alice and carol at every record's time, as answered.
  std::map<std::string, std::string> as_of_answers() {
    HttpClient alice = e2e::login(server_, "alice");
    std::map<std::string, std::string> answers;
    for (const std::string owner : {"alice", "carol"}) {
      for (const auto& t : times_) {
        const auto res = alice.get("/api/v1/tokens?owner=" + owner + "&as_of=" + t);
        EXPECT_EQ(res.status, 200) << e2e::describe(res);
        answers[owner + "@" + t] = res.body;
      }
    }
    return answers;
  }

  std::vector<std::string> owner_keys() {
    std::vector<std::string> keys;
    for (const auto& [key, value] : ldb_entries(data_, "audit_index")) {
      if (key[0] == 'o' || key == kMarker) keys.push_back(key);
    }
    return keys;
  }

  e2e::TestServer server_;
  std::string data_;
  std::vector<std::string> times_;
  std::uint64_t mid_ = 0, head_ = 0;
};

TEST_F(FaultVerifyAsOf, AsOfAnswersAreTheSameWithoutTheOwnerKeysAndAfterTheirBackFill) {
  server_.start({.extra_args = {"--scrub-hours", "0"}});
  const auto indexed = as_of_answers();
  server_.stop();
  const auto written = owner_keys();
  ASSERT_GT(written.size(), 8u);
  ASSERT_EQ(written.front(), kMarker);

  // As an earlier release left the directory: no owner key, no marker.
  const Outcome cut = ldb(data_, "audit_index", {"deleterange", hex_of("o"), hex_of("p")});
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  ldb_delete(data_, "audit_index", hex_of(kMarker));
  ASSERT_TRUE(owner_keys().empty());
  const Outcome clean = run({TOKENLEDGER_ADMIN_BIN, "verify", "--data", data_});
  EXPECT_EQ(clean.exit_code, 0) << "owner keys are checked only once back-filled: " << clean.out;

  server_.start({.extra_args = {"--scrub-hours", "0", "--read-only"}});
  EXPECT_EQ(as_of_answers(), indexed) << "read-only: the full fold answers";
  server_.stop();
  EXPECT_NE(server_.log().find("owner keys are not back-filled"), std::string::npos);
  ASSERT_TRUE(owner_keys().empty());

  server_.start({.extra_args = {"--scrub-hours", "0"}});
  EXPECT_EQ(as_of_answers(), indexed) << "back-filled at start: the owner keys answer";
  server_.stop();
  EXPECT_NE(server_.log().find("owner keys back-filled"), std::string::npos) << server_.log();
  EXPECT_EQ(owner_keys(), written);
  const Outcome verified = run({TOKENLEDGER_ADMIN_BIN, "verify", "--data", data_});
  EXPECT_EQ(verified.exit_code, 0) << verified.out;

  // Once back-filled, a removed owner key is damage the check names.
  ldb_delete(data_, "audit_index", hex_of(written.back()));
  const Outcome damaged = run({TOKENLEDGER_ADMIN_BIN, "verify", "--data", data_});
  EXPECT_EQ(damaged.exit_code, 1) << damaged.out;
  EXPECT_NE(damaged.out.find("owner"), std::string::npos) << damaged.out;
}

TEST_F(FaultVerifyAsOf, DamageBeforeTheBasisIsFoundByAFullWalkAndThenReported) {
  std::string record = ldb_get(data_, "events", seq_key(5));
  record[record.find("\"at\":\"") + 6] ^= 0x01;
  ldb_put(data_, "events", seq_key(5), record);
  // The start walks from the newest checkpoint (the head): record 5 is before it.
  server_.start({.extra_args = {"--scrub-hours", "0", "--start-full-check-limit", "0"}});
  HttpClient alice = e2e::login(server_, "alice");
  const Json quick = alice.get("/api/v1/audit/verify").json();
  EXPECT_EQ(quick["scrub"].str(), "pending") << "it says what it rests on: no full check yet";
  const Json full = alice.get("/api/v1/audit/verify?full=true").json();
  EXPECT_FALSE(full["ok"].boolean());
  EXPECT_EQ(full["first_bad_seq"].integer(), 5);
  EXPECT_EQ(full["kind"].str(), "chain");
  const Json after = alice.get("/api/v1/audit/verify").json();
  EXPECT_FALSE(after["ok"].boolean()) << "the last full check found damage";
  EXPECT_EQ(after["first_bad_seq"].integer(), 5);
  EXPECT_FALSE(after["scrub"]["ok"].boolean());
  expect_damage_refused(alice, 5);
  server_.stop();
}

TEST_F(FaultVerifyAsOf, DamageAfterTheBasisIsFoundByTheWalkOfTheRecordsAfterIt) {
  // The newest checkpoint (signed at shutdown) goes, so the start's basis is the one at mid_; a
  // record after it is changed. Without a walk at start, only verify's walk can see it.
  std::string newest;
  for (const auto& [key, value] : ldb_entries(data_, "meta")) {
    if (key.starts_with("checkpoint/")) newest = key;
  }
  ASSERT_GT(tl::decode_be64(newest.substr(11)), mid_);
  ldb_delete(data_, "meta", hex_of(newest));
  const std::uint64_t victim = mid_ + 2;
  ASSERT_LT(victim, head_);
  std::string record = ldb_get(data_, "events", seq_key(victim));
  record[record.find("\"at\":\"") + 6] ^= 0x01;
  ldb_put(data_, "events", seq_key(victim), record);
  server_.start({.extra_args = {"--scrub-hours", "0", "--start-full-check-limit", "0", "--verify-on-start", "off"}});
  HttpClient alice = e2e::login(server_, "alice");
  const Json quick = alice.get("/api/v1/audit/verify").json();
  EXPECT_FALSE(quick["ok"].boolean()) << quick["scrub"].str();
  EXPECT_EQ(quick["first_bad_seq"].integer(), static_cast<std::int64_t>(victim));
  EXPECT_EQ(quick["kind"].str(), "chain");
  EXPECT_EQ(quick["scrub"].str(), "pending");
  EXPECT_EQ(quick["walked"]["from_seq"].integer(), static_cast<std::int64_t>(mid_ + 1));
  expect_damage_refused(alice, victim);
  server_.stop();
}

}  // namespace
