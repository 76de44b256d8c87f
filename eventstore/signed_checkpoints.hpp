// Signed checkpoints: the log's head (seq and hash) signed with an Ed25519 key, each naming the
// one before it (CloudTrail's digest files work this way). Anyone holding the public key can
// check a copy of the log against them: even a rewrite of the whole log, hashes recomputed,
// is caught, because the signed hash at the checkpoint's seq no longer matches.
//
// Stored in the meta column family under "checkpoint/" + be64(seq), as one JSON line:
//   {"seq":…,"hash":"…","at":"…","prev":"<sha256 of the previous line, or zeros>",
//    "public_key":"<hex>","signature":"<hex Ed25519 over every byte before ,"signature":>"}
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

struct SignedCheckpoint {
  std::uint64_t seq = 0;
  std::string hash;
  std::string at;
  std::string prev;
  std::string public_key;
  std::string signature;
  std::string raw;
};

struct CheckpointReport {
  bool ok = true;
  std::uint64_t checkpoints = 0;
  std::uint64_t first_bad_seq = 0;  // the checkpoint's seq
  std::string problem;
};

class CheckpointSigner {
 public:
  // Reads the Ed25519 secret key from `path`, or creates it (mode 0600).
  static Result<std::unique_ptr<CheckpointSigner>> load_or_create(const std::string& path);
  ~CheckpointSigner();

  std::string public_key_hex() const;
  const std::array<unsigned char, 32>& public_key() const { return public_; }
  // An Ed25519 signature (RFC 8032) of `message` with this key: the tree heads' note signatures
  // (eventstore/tree_heads.hpp) use the checkpoint key too.
  std::array<unsigned char, 64> sign_message(std::string_view message) const;
  // Signs the current head, unless the last checkpoint already names it. Returns the newest.
  Result<SignedCheckpoint> sign_head(EventLog& store);

 private:
  CheckpointSigner() = default;
  std::array<unsigned char, 64> secret_{};
  std::array<unsigned char, 32> public_{};
  std::mutex mutex_;
};

// Every checkpoint, oldest first.
Result<std::vector<SignedCheckpoint>> list_checkpoints(const EventLog& store);
// One checkpoint object in any JSON layout; `raw` is set to its canonical bytes (as sign_head
// writes them), which its signature and the next checkpoint's prev cover.
Result<SignedCheckpoint> parse_checkpoint(std::string_view raw);

// True when `c`'s Ed25519 signature over every byte before `,"signature":` verifies with the
// public key `public_key_hex`.
bool checkpoint_signature_valid(const SignedCheckpoint& c, std::string_view public_key_hex);

// Checks each checkpoint's signature (against `trusted_public_key_hex`, or the key it names
// when empty), the chain of `prev`, and that the log's record at its seq has its hash.
CheckpointReport verify_checkpoints(const EventLog& store, std::string_view trusted_public_key_hex);

}  // namespace tl
