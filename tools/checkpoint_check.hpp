// Signed checkpoints from the admin tool's side: which public key to trust, reading the
// checkpoints an auditor saved (from `tokenledger-admin checkpoints --format jsonl` or
// GET /api/v1/audit/checkpoints), and checking them against an export without the database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/signed_checkpoints.hpp"

namespace tl::admin {

struct TrustedKey {
  std::string hex;     // empty: each checkpoint is checked against the key it names
  std::string source;  // where the key came from, for the output
};

// `given` (--public-key) when set, else the public key of `signing_key_file` when it exists
// (never created here), else none.
TrustedKey trusted_key(const std::string& given, const std::string& signing_key_file);

// The public key of the Ed25519 seed in `signing_key_file`, or "" when it does not exist.
std::string public_key_of(const std::string& signing_key_file);

// JSON Lines of checkpoints, or the document of GET /api/v1/audit/checkpoints. Throws
// UsageError when the file cannot be read, Failure when it holds no valid checkpoints.
std::vector<SignedCheckpoint> read_checkpoints_file(const std::string& path);

// Checks saved checkpoints (signatures, the chain of `prev`) and then, record by record, the
// hash each one signed against an export of the log.
class OfflineCheckpoints {
 public:
  OfflineCheckpoints(std::vector<SignedCheckpoint> checkpoints, const TrustedKey& key);
  // An export's record; false when it contradicts a checkpoint (the report names it).
  bool see(std::uint64_t seq, const std::string& hash);
  // After the last record: counts the checkpoints the export did not reach.
  void finish();

  bool ok() const { return ok_; }
  std::uint64_t count() const { return checkpoints_.size(); }
  std::uint64_t matched() const { return matched_; }
  std::uint64_t beyond() const { return beyond_; }  // past the export's last seq
  // The first and the newest checkpoint past the export's last seq; 0 when none.
  std::uint64_t first_beyond_seq() const { return first_beyond_; }
  std::uint64_t newest_beyond_seq() const { return newest_beyond_; }
  std::uint64_t not_in_file() const { return missing_; }  // in the export's gaps (filtered)
  std::uint64_t first_bad_seq() const { return bad_seq_; }
  const std::string& problem() const { return problem_; }

 private:
  bool fail(std::uint64_t seq, std::string problem);

  std::vector<SignedCheckpoint> checkpoints_;
  std::map<std::uint64_t, std::string> by_seq_;  // seq -> signed hash, not yet seen
  std::uint64_t last_seq_ = 0;
  std::uint64_t matched_ = 0, beyond_ = 0, missing_ = 0, bad_seq_ = 0, first_beyond_ = 0, newest_beyond_ = 0;
  bool ok_ = true;
  std::string problem_;
};

}  // namespace tl::admin
