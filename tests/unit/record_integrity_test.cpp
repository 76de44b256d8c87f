// The record holds (issue 11): what is appended can always be read back, an old record with bytes
// that are not UTF-8 stays readable, and every derived structure is checked against the log.
#include <gtest/gtest.h>

#include <future>

#include "domain/text_rules.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "projections/read_model.hpp"
#include "service/integrity.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

AppendRequest reveal(const std::string& stream, std::string user_agent) {
  return {
      stream,  kAnyVersion, {TokenRevealed{}}, {"alice", Via::session, {}}, {"127.0.0.1", std::move(user_agent), "r1"},
      "alice", {}};
}

AppendRequest created(const std::string& stream) {
  return {stream,
          kNoStream,
          {TokenCreated{"alice", "CI", 15, "l", "s"}},
          {"alice", Via::session, {}},
          {"127.0.0.1", "ua", "r1"},
          "alice",
          {}};
}

// The bytes the release before this one wrote for a record whose user agent was not UTF-8.
Record legacy_record(std::string user_agent) {
  Record r;
  r.seq = 1;
  r.at = Timestamp(std::chrono::milliseconds(1'790'000'000'000));
  r.stream = "tok_1";
  r.version = 1;
  r.actor = {"alice", Via::session, {}};
  r.source = {"127.0.0.1", std::move(user_agent), "r1"};
  r.token_id = "tok_1";
  r.owner = "alice";
  r.event = TokenRevealed{};
  r.prev_hash = kGenesisHash;
  encode_record(r);
  return r;
}

TEST(RecordRoundTripTest, TheRoundTripCheckRefusesBytesThatAreNotUtf8) {
  RecordDecoder decoder;
  EXPECT_TRUE(check_round_trip(legacy_record("curl/8"), decoder).ok());
  for (const std::string& bad :
       std::vector<std::string>{"caf\xe9", "\xC0\xAF", "a\xED\xA0\x80", std::string(300, 'x') + "\xF0\x9F"}) {
    const auto checked = check_round_trip(legacy_record(bad), decoder);
    EXPECT_FALSE(checked.ok()) << bad;
  }
  // Control characters and NUL are escaped and read back as they were.
  EXPECT_TRUE(check_round_trip(legacy_record(std::string("a\0b\x7f\x01", 5)), decoder).ok());
}

TEST(RecordRoundTripTest, TheAppenderRefusesAnUnreadableRecordAloneAndKeepsTheLogWhole) {
  testing::TempDir dir;
  auto store = EventStore::open(dir.path(), {}).value();
  ASSERT_TRUE(store->append(created("tok_1")).ok());
  const Head before = store->head();
  // One batch: a good append, a bad one, a good one. Only the bad one is refused.
  std::vector<std::promise<Result<AppendResult>>> done(3);
  store->append_async(reveal("tok_1", "ok-1"), [&](Result<AppendResult> r) { done[0].set_value(std::move(r)); });
  store->append_async(reveal("tok_1", "caf\xe9"), [&](Result<AppendResult> r) { done[1].set_value(std::move(r)); });
  store->append_async(reveal("tok_1", "ok-2"), [&](Result<AppendResult> r) { done[2].set_value(std::move(r)); });
  auto first = done[0].get_future().get();
  auto bad = done[1].get_future().get();
  auto last = done[2].get_future().get();
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::internal);
  EXPECT_NE(bad.error().message.find("nothing was changed"), std::string::npos) << bad.error().message;
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(store->head().seq, before.seq + 2);
  EXPECT_EQ(last->first_seq, first->last_seq + 1);  // no hole where the refused one would have been
  EXPECT_EQ(store->stream_version("tok_1"), 3u);
  EXPECT_TRUE(store->verify().ok) << store->verify().problem;
  std::vector<std::string> agents;
  ASSERT_TRUE(store
                  ->read_range(1, UINT64_MAX,
                               [&](const Record& r) {
                                 agents.push_back(r.source.user_agent);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(agents, (std::vector<std::string>{"ua", "ok-1", "ok-2"}));
}

TEST(RecordRoundTripTest, AnOldRecordWithBytesThatAreNotUtf8StaysReadable) {
  const Record old = legacy_record("caf\xe9");
  auto decoded = decode_record(old.raw);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->source.user_agent, "caf\xEF\xBF\xBD");  // shown as U+FFFD
  EXPECT_EQ(decoded->raw, old.raw);                          // the stored bytes are kept
  EXPECT_EQ(decoded->hash, old.hash);
  EXPECT_TRUE(record_hash_matches(decoded->raw));
  std::string json;
  append_record_json(json, *decoded);
  EXPECT_TRUE(utf8_length(json)) << "the JSON API must serve valid UTF-8";
  EXPECT_NE(json.find("caf\xEF\xBF\xBD"), std::string::npos);
  std::string untouched;
  append_record_json(untouched, *decode_record(legacy_record("curl").raw));
  EXPECT_EQ(untouched, legacy_record("curl").raw);
}

// ---- check_integrity against direct edits of the derived structures ----

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
    model_ = std::make_unique<ReadModel>(*store_);
    ASSERT_TRUE(model_->load().ok());
    for (const char* id : {"tok_1", "tok_2"}) ASSERT_TRUE(store_->append(created(id)).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->append(reveal(i % 2 ? "tok_1" : "tok_2", "ua")).ok());
    signer_ = CheckpointSigner::load_or_create(dir_.path() + "/signing.key").value();
    ASSERT_TRUE(signer_->sign_head(*store_).ok());                                        // at seq 6
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(store_->append(reveal("tok_1", "ua")).ok());  // 7, 8
    ASSERT_TRUE(model_->save_checkpoint().ok());
  }

  IntegrityReport check(bool indexes = true) {
    IntegrityOptions o;
    o.trusted_public_key = signer_->public_key_hex();
    o.indexes = indexes;
    return check_integrity(*store_, o);
  }

  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<CheckpointSigner> signer_;
};

TEST_F(IntegrityTest, ASoundDirectoryPassesEveryCheck) {
  const IntegrityReport r = check();
  EXPECT_TRUE(r.ok) << r.kind << ": " << r.problem;
  EXPECT_EQ(r.chain.events, 8u);
  EXPECT_EQ(r.checkpoints, 1u);
  EXPECT_EQ(r.stream_entries, 8u);
  EXPECT_EQ(r.audit_entries, 32u);  // by token, actor, owner (issue 16) and type for each record
}

TEST_F(IntegrityTest, AMissingAuditIndexEntryIsNamedWithItsSeq) {
  std::vector<std::string> keys;
  AuditIndex::keys_of(*store_->read(5).value(), keys);
  ASSERT_TRUE(store_->raw_write("audit_index", keys[0], std::nullopt).ok());  // the by-token entry of seq 5
  const IntegrityReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "audit_index");
  EXPECT_EQ(r.first_bad_seq, 5u);
  EXPECT_TRUE(check(/*indexes=*/false).ok) << "--quick skips the index cross-check";
}

TEST_F(IntegrityTest, AnAddedAuditIndexEntryIsFound) {
  std::vector<std::string> keys;
  AuditIndex::keys_of(*store_->read(3).value(), keys);
  std::string forged = keys[0];  // 't' tok_? \0 be64(3) -> claim seq 3 is about another token
  forged.replace(1, 5, "tok_9");
  ASSERT_TRUE(store_->raw_write("audit_index", forged, "").ok());
  const IntegrityReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "audit_index");
  EXPECT_EQ(r.first_bad_seq, 3u);
}

TEST_F(IntegrityTest, IndexEntriesPointingPastTheHeadAreACut) {
  // Cut the last record the way `ldb deleterange` would: the events only.
  ASSERT_TRUE(store_->raw_write("events", encode_be64(8), std::nullopt).ok());
  // The open store still believes its head; reopen to see the log as it is now.
  model_.reset();
  store_.reset();
  store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  const IntegrityReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "head_marker") << r.problem;
  EXPECT_EQ(r.first_bad_seq, 8u);
  // Without the marker (as an attacker would leave it), the indexes still tell.
  ASSERT_TRUE(store_->raw_write("meta", "head", std::nullopt).ok());
  store_.reset();
  store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  const IntegrityReport again = check();
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.kind, "projection") << again.problem;  // the projection checkpoint reflects seq 8
  ASSERT_TRUE(store_->raw_write("projection_state", "checkpoint", encode_be64(7)).ok());
  const IntegrityReport index = check();
  EXPECT_FALSE(index.ok);
  EXPECT_EQ(index.kind, "audit_index") << index.problem;  // the newest entry by type, one seek
  EXPECT_EQ(index.first_bad_seq, 8u);
  // With the audit index cleaned too, the stream index still points past the head.
  std::vector<std::string> keys;
  Record cut;
  cut.seq = 8, cut.token_id = "tok_1", cut.actor.user = "alice", cut.event = TokenRevealed{};
  AuditIndex::keys_of(cut, keys);
  for (const auto& key : keys) ASSERT_TRUE(store_->raw_write("audit_index", key, std::nullopt).ok());
  const IntegrityReport streams = check();
  EXPECT_FALSE(streams.ok);
  EXPECT_EQ(streams.kind, "stream_index") << streams.problem;
  EXPECT_EQ(streams.first_bad_seq, 8u);
}

TEST_F(IntegrityTest, ACutBelowASignedCheckpointOrARewriteIsACheckpointProblem) {
  // A forger's rewrite from seq 6 on: the edit, then every later record re-linked and re-hashed.
  std::string prev = store_->read(5).value()->hash;
  for (std::uint64_t seq = 6; seq <= 8; ++seq) {
    Record rewritten = *store_->read(seq).value();
    if (seq == 6) rewritten.source.user_agent = "forged";
    rewritten.prev_hash = prev;
    encode_record(rewritten);
    prev = rewritten.hash;
    ASSERT_TRUE(store_->raw_write("events", encode_be64(seq), rewritten.raw).ok());
  }
  const IntegrityReport r = check();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "checkpoint");
  EXPECT_EQ(r.first_bad_seq, 6u);
}

TEST_F(IntegrityTest, TheStartCheckSeesAProjectionAheadOfTheLogAndAWrongKey) {
  ASSERT_TRUE(check_at_start(*store_, {.trusted_public_key = signer_->public_key_hex()}).ok);
  ASSERT_TRUE(store_->raw_write("projection_state", "checkpoint", encode_be64(50)).ok());
  IntegrityReport r = check_at_start(*store_, {.trusted_public_key = signer_->public_key_hex()});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "projection");
  ASSERT_TRUE(store_->raw_write("projection_state", "checkpoint", encode_be64(8)).ok());
  // A checkpoint checked against another pinned key fails.
  auto other = CheckpointSigner::load_or_create(dir_.path() + "/other.key").value();
  r = check_at_start(*store_, {.trusted_public_key = other->public_key_hex()});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "checkpoint");
  EXPECT_EQ(r.first_bad_seq, 6u);
}

TEST_F(IntegrityTest, AWitnessedCheckpointTheLogNoLongerReachesIsACut) {
  ASSERT_TRUE(store_->append(reveal("tok_1", "ua")).ok());  // 9
  auto newest = signer_->sign_head(*store_).value();        // at seq 9, witnessed
  // The attacker removes seq 9, the checkpoint and the marker: the directory is consistent again.
  ASSERT_TRUE(store_->raw_write("events", encode_be64(9), std::nullopt).ok());
  ASSERT_TRUE(store_->raw_write("meta", "checkpoint/" + encode_be64(9), std::nullopt).ok());
  ASSERT_TRUE(store_->raw_write("meta", "head", std::nullopt).ok());
  model_.reset();
  store_.reset();
  store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  // ...and the audit index's entries of seq 9, so nothing in the directory remembers it.
  Record cut;
  cut.seq = 9, cut.token_id = "tok_1", cut.actor.user = "alice", cut.event = TokenRevealed{};
  std::vector<std::string> keys;
  AuditIndex::keys_of(cut, keys);
  for (const auto& key : keys) ASSERT_TRUE(store_->raw_write("audit_index", key, std::nullopt).ok());
  IntegrityOptions o{.trusted_public_key = signer_->public_key_hex(), .indexes = false};
  EXPECT_TRUE(check_integrity(*store_, o).ok) << check_integrity(*store_, o).problem;
  o.witnessed = {newest};
  const IntegrityReport r = check_integrity(*store_, o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "witness");
  EXPECT_EQ(r.first_bad_seq, 9u);
}

}  // namespace
}  // namespace tl
