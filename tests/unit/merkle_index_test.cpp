// The log's Merkle tree as a projection (projections/merkle_index) and its signed tree heads as
// C2SP checkpoints (eventstore/tree_heads): the tree agrees with one built leaf by leaf from the
// record hashes, survives a restart through its saved chunks, catches up with records it was not
// told of, and mends saved chunks that disagree with a signed tree head; notes are signed as
// c2sp.org/signed-note says (the Go reference's known answer), and nothing altered verifies.
#include "projections/merkle_index.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/hex.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/tree_heads.hpp"
#include "projections/read_model.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

AppendRequest reveal(const std::string& stream) {
  return {stream, kAnyVersion, {TokenRevealed{}}, {"alice", Via::session, {}}, {"127.0.0.1", "ua", "r1"}, "alice", {}};
}

std::unique_ptr<EventStore> open_store(const std::string& dir) {
  return EventStore::open(dir, {.extra_column_families = ReadModel::column_families()}).value();
}

// The tree built leaf by leaf from every record's hash.
merkle::Tree plain_tree(const EventLog& store) {
  merkle::Tree tree;
  EXPECT_TRUE(store
                  .read_range(1, UINT64_MAX,
                              [&](const Record& r) {
                                tree.append(record_leaf_hash(r.hash));
                                return true;
                              })
                  .ok());
  return tree;
}

std::size_t saved_chunks(const EventLog& store) {
  std::size_t n = 0;
  EXPECT_TRUE(store.state()
                  .scan(ReadModel::kStateFamily, {.prefix = MerkleIndex::kPrefix},
                        [&](std::string_view, std::string_view) {
                          ++n;
                          return true;
                        })
                  .ok());
  return n;
}

void check_against_plain(const MerkleIndex& index, const EventLog& store) {
  const merkle::Tree plain = plain_tree(store);
  const std::uint64_t n = plain.size();
  ASSERT_EQ(index.size(), n);
  for (std::uint64_t size : {std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{65}, n - 1, n}) {
    ASSERT_EQ(index.root(size).value(), plain.root(size).value()) << size;
    for (std::uint64_t seq : {std::uint64_t{1}, size / 2 + 1, size}) {
      const InclusionProof proof = index.inclusion(seq, size).value();
      EXPECT_EQ(proof.leaf_index, seq - 1);
      EXPECT_EQ(proof.path, plain.inclusion_path(seq - 1, size).value());
      EXPECT_EQ(merkle::root_from_inclusion(proof.leaf_index, size, proof.leaf_hash, proof.path).value(),
                proof.root_hash);
      EXPECT_EQ(proof.leaf_hash, record_leaf_hash(store.read(seq).value()->hash));
    }
    const ConsistencyProof c = index.consistency(1 + size / 3, size).value();
    EXPECT_TRUE(merkle::verify_consistency(c.first, c.second, c.first_root, c.second_root, c.path).ok());
  }
}

TEST(MerkleIndexTest, AgreesWithTheTreeOfEveryRecordHashAndSurvivesARestart) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.path());
    MerkleIndex index(*store);
    ASSERT_TRUE(index.load().ok());
    for (int i = 0; i < 150; ++i) ASSERT_TRUE(store->append(reveal("t" + std::to_string(i % 7))).ok());
    check_against_plain(index, *store);
    EXPECT_EQ(saved_chunks(*store), 2u);  // 150 events: two chunks of 64
  }
  auto store = open_store(dir.path());
  MerkleIndex index(*store);
  ASSERT_TRUE(index.load().ok());
  check_against_plain(index, *store);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(store->append(reveal("u")).ok());
  check_against_plain(index, *store);
  EXPECT_EQ(saved_chunks(*store), 2u);  // 180
}

TEST(MerkleIndexTest, ProofsNameTheParameterThatIsOutOfRange) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  MerkleIndex index(*store);
  ASSERT_TRUE(index.load().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(reveal("t")).ok());
  EXPECT_NE(index.inclusion(0, 5).error().message.find("seq"), std::string::npos);
  EXPECT_NE(index.inclusion(6, 5).error().message.find("seq"), std::string::npos);
  EXPECT_NE(index.inclusion(2, 6).error().message.find("tree_size"), std::string::npos);
  EXPECT_NE(index.consistency(0, 5).error().message.find("from"), std::string::npos);
  EXPECT_NE(index.consistency(4, 3).error().message.find("from"), std::string::npos);
  EXPECT_NE(index.consistency(1, 6).error().message.find("to"), std::string::npos);
  EXPECT_EQ(index.root(6).error().code, ErrorCode::invalid_field);
}

TEST(MerkleIndexTest, RecordsItWasNotToldOfAreReadFromTheLog) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  for (int i = 0; i < 70; ++i) ASSERT_TRUE(store->append(reveal("t")).ok());
  MerkleIndex index(*store);  // not loaded: the next commit finds the tree 70 records behind
  ASSERT_TRUE(store->append(reveal("t")).ok());
  check_against_plain(index, *store);
}

TEST(MerkleIndexTest, SavedChunksThatDisagreeWithASignedTreeHeadAreFoldedAgain) {
  testing::TempDir dir;
  merkle::Hash signed_root;
  {
    auto store = open_store(dir.path());
    MerkleIndex index(*store);
    ASSERT_TRUE(index.load().ok());
    for (int i = 0; i < 130; ++i) ASSERT_TRUE(store->append(reveal("t")).ok());
    auto signer = CheckpointSigner::load_or_create(dir.sub("signing.key")).value();
    signed_root = index.root(130).value();
    ASSERT_TRUE(sign_tree_head(*store, *signer, "tokenledger/test", 130, signed_root).ok());
    // The saved root of chunk 1 altered (a stale or tampered cache).
    auto batch = store->state().new_batch();
    batch->put(ReadModel::kStateFamily, std::string(MerkleIndex::kPrefix) + encode_be64(1), std::string(32, 'x'));
    ASSERT_TRUE(store->state().write(*batch).ok());
  }
  auto store = open_store(dir.path());
  MerkleIndex index(*store);
  ASSERT_TRUE(index.load().ok());
  EXPECT_EQ(index.root(130).value(), signed_root);
  check_against_plain(index, *store);
}

// A record whose stored hash is not hex, or a missing record, stops the tree before it with an
// error naming the seq: no exception, no abort (a reviewer's finding: the fold threw from inside the
// parallel read at start-up), and no proof past it.
TEST(MerkleIndexTest, ADamagedOrMissingRecordStopsTheTreeBeforeIt) {
  for (const bool missing : {false, true}) {
    testing::TempDir dir;
    {
      // Unsynced: only the count matters (more than the 4096 records the parallel read starts at).
      auto store =
          EventStore::open(dir.path(), {.extra_column_families = ReadModel::column_families(), .sync = false}).value();
      for (int i = 0; i < 5000; ++i) ASSERT_TRUE(store->append(reveal("t" + std::to_string(i % 9))).ok());
      if (missing) {
        ASSERT_TRUE(store->raw_write("events", encode_be64(4321), std::nullopt).ok());
      } else {
        std::string raw = *store->read_raw(4321).value();
        raw[raw.size() - 3] = 'z';  // the last hex digit of "hash":"…"}
        ASSERT_TRUE(store->raw_write("events", encode_be64(4321), raw).ok());
      }
    }
    auto store = open_store(dir.path());
    MerkleIndex index(*store);
    const Status loaded = index.load();
    ASSERT_FALSE(loaded.ok()) << missing;
    EXPECT_NE(loaded.error().message.find("4321"), std::string::npos) << loaded.error().message;
    EXPECT_EQ(index.size(), 4320u) << missing;
    EXPECT_TRUE(index.inclusion(4000, 4320).ok());
    EXPECT_FALSE(index.inclusion(4000, 4500).ok());
    EXPECT_FALSE(index.consistency(10, 5000).ok());
  }
}

Ed25519PublicKey key_of(std::string_view hex_text) {
  Ed25519PublicKey key;
  const auto bytes = from_hex(hex_text).value();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

// c2sp.org/signed-note's reference (golang.org/x/mod/sumdb/note): the key
// "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz" (algorithm byte
// 0x01, then the Ed25519 seed) signs the text with exactly this line.
TEST(TreeHeadTest, NoteSignaturesAsTheSignedNoteReference) {
  const std::string seed = base64_decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").value().substr(1);
  Ed25519PublicKey public_key;
  std::array<unsigned char, 64> secret;
  crypto_sign_seed_keypair(public_key.data(), secret.data(), reinterpret_cast<const unsigned char*>(seed.data()));
  EXPECT_EQ(base64_decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").value().substr(1),
            std::string(reinterpret_cast<const char*>(public_key.data()), 32));
  const auto id = note_key_id("PeterNeumann", 0x01, public_key);
  EXPECT_EQ(to_hex(id.data(), id.size()), "c74f20a3");
  const std::string text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  unsigned char signature[64];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       secret.data());
  EXPECT_EQ(note_signature_line("PeterNeumann", id, {reinterpret_cast<const char*>(signature), 64}),
            "\xE2\x80\x94 PeterNeumann "
            "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
}

TEST(TreeHeadTest, SignedStoredParsedAndNothingAlteredVerifies) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  auto signer = CheckpointSigner::load_or_create(dir.sub("signing.key")).value();
  const Ed25519PublicKey key = key_of(signer->public_key_hex());
  merkle::Hash root{};
  root.fill(0xab);
  const std::string origin = "tokenledger/0123456789abcdef0123456789abcdef";
  const TreeHead head = sign_tree_head(*store, *signer, origin, 42, root).value();
  EXPECT_TRUE(head.note.starts_with(origin + "\n42\n" + base64_encode(std::string(32, '\xab')) + "\n\n\xE2\x80\x94 " +
                                    origin + " "));
  EXPECT_EQ(head.size, 42u);
  EXPECT_EQ(head.root, root);
  EXPECT_TRUE(tree_head_signed_by(head, origin, key));
  // The same size again: the stored one, not a second signature.
  root.fill(0xcd);
  EXPECT_EQ(sign_tree_head(*store, *signer, origin, 42, root).value().note, head.note);
  EXPECT_EQ(newest_tree_head(*store).value()->note, head.note);
  ASSERT_TRUE(sign_tree_head(*store, *signer, origin, 43, root).ok());
  EXPECT_EQ(newest_tree_head(*store).value()->size, 43u);
  EXPECT_EQ(list_tree_heads(*store).value().size(), 2u);

  // Another size, root, origin, key or key name: no signature holds.
  std::string altered = head.note;
  altered.replace(altered.find("\n42\n"), 4, "\n41\n");
  EXPECT_FALSE(tree_head_signed_by(parse_tree_head(altered).value(), origin, key));
  EXPECT_FALSE(tree_head_signed_by(head, "tokenledger/other", key));
  Ed25519PublicKey other = key;
  other[0] ^= 1;
  EXPECT_FALSE(tree_head_signed_by(head, origin, other));
  // Malformed notes are refused, naming what is wrong.
  EXPECT_FALSE(parse_tree_head("o\n42\n").ok());
  EXPECT_FALSE(parse_tree_head("o\n042\n" + base64_encode(std::string(32, 'a')) + "\n\n").ok());
  EXPECT_FALSE(parse_tree_head("o\n42\nnot-base64\n\n").ok());
  EXPECT_FALSE(parse_tree_head(head.body + "\n").ok());  // no signature line
  EXPECT_TRUE(parse_note_signature("\xE2\x80\x94 w.example/1 AAAAAAAA").ok());
  for (std::string_view line :
       {"\xE2\x80\x94 w\rx AAAAAAAA", "\xE2\x80\x94 w+x AAAAAAAA", "\xE2\x80\x94 w\xff AAAAAAAA", "- w AAAAAAAA",
        "\xE2\x80\x94 w AAAA", "\xE2\x80\x94 w not*base64"}) {
    EXPECT_FALSE(parse_note_signature(line).ok()) << line;
  }
}

}  // namespace
}  // namespace tl
