#include "eventstore/signed_checkpoints.hpp"

#include <gtest/gtest.h>

#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

class SignedCheckpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = EventStore::open(dir_.sub("db"), {}).value();
    signer_ = CheckpointSigner::load_or_create(dir_.sub("signing.key")).value();
  }
  void append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          store_->append({"s", kAnyVersion, {TokenRevealed{}}, {"alice", Via::session, {}}, {}, "alice", {}}).ok());
    }
  }
  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<CheckpointSigner> signer_;
};

TEST_F(SignedCheckpointsTest, SignedHeadsVerifyAndChain) {
  EXPECT_FALSE(signer_->sign_head(*store_).ok()) << "an empty log has nothing to sign";
  append(3);
  auto first = signer_->sign_head(*store_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->seq, 3u);
  EXPECT_EQ(first->prev, kGenesisHash);
  EXPECT_EQ(signer_->sign_head(*store_)->raw, first->raw) << "the same head is not signed twice";
  append(2);
  auto second = signer_->sign_head(*store_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->prev, sha256_hex(first->raw));
  const CheckpointReport report = verify_checkpoints(*store_, signer_->public_key_hex());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoints, 2u);
}

TEST_F(SignedCheckpointsTest, ARewrittenLogIsCaughtEvenWithRecomputedHashes) {
  append(4);
  ASSERT_TRUE(signer_->sign_head(*store_).ok());
  // Rewrite every record from seq 2 on, recomputing each hash and link: verify() of the chain
  // alone cannot tell, the signed checkpoint can.
  std::string prev = store_->read(1).value()->hash;
  for (std::uint64_t seq = 2; seq <= 4; ++seq) {
    Record r = *store_->read(seq).value();
    r.actor.user = "mallory";
    r.prev_hash = prev;
    encode_record(r);
    prev = r.hash;
    ASSERT_TRUE(store_->raw_write("events", encode_be64(seq), r.raw).ok());
  }
  EXPECT_TRUE(store_->verify().ok);
  const CheckpointReport report = verify_checkpoints(*store_, signer_->public_key_hex());
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4u);
}

TEST_F(SignedCheckpointsTest, AnotherKeyOrAMissingCheckpointIsCaught) {
  append(1);
  auto first = signer_->sign_head(*store_).value();
  append(1);
  ASSERT_TRUE(signer_->sign_head(*store_).ok());
  append(1);
  ASSERT_TRUE(signer_->sign_head(*store_).ok());
  auto other = CheckpointSigner::load_or_create(dir_.sub("other.key")).value();
  EXPECT_FALSE(verify_checkpoints(*store_, other->public_key_hex()).ok);
  ASSERT_TRUE(store_->raw_write("meta", "checkpoint/" + encode_be64(2), std::nullopt).ok());
  const CheckpointReport report = verify_checkpoints(*store_, signer_->public_key_hex());
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
}

// A checkpoint reformatted by a JSON tool (`jq .`: other whitespace, other key order) is the same
// checkpoint: its raw bytes are rebuilt canonically, so the signature and the chain still hold.
TEST_F(SignedCheckpointsTest, AReformattedCheckpointParsesToTheCanonicalBytes) {
  append(2);
  auto first = signer_->sign_head(*store_);
  ASSERT_TRUE(first.ok());
  const std::string pretty = "{\n  \"signature\": \"" + first->signature +
                             "\",\n  \"seq\": " + std::to_string(first->seq) + ",\n  \"hash\": \"" + first->hash +
                             "\",\n  \"at\": \"" + first->at + "\",\n  \"prev\": \"" + first->prev +
                             "\",\n  \"public_key\": \"" + first->public_key + "\"\n}\n";
  auto parsed = parse_checkpoint(pretty);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->raw, first->raw);
  EXPECT_TRUE(checkpoint_signature_valid(*parsed, signer_->public_key_hex()));
  // A changed field still breaks the signature.
  std::string forged = pretty;
  forged.replace(forged.find(first->at), first->at.size(), "2001-01-01T00:00:00.000Z");
  auto changed = parse_checkpoint(forged);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(checkpoint_signature_valid(*changed, signer_->public_key_hex()));
}

}  // namespace
}  // namespace tl
