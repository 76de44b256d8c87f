// What the running server does about the record's integrity (issue 11): it remembers damage
// found by the start-up check or the scrub and then refuses every write (the log turns
// read-only, /readyz answers 503 naming the seq); it signs checkpoints of the head only over a
// log that passed its checks, and hands each to the witnesses; and it runs the background
// scrub: the full check_integrity() at start and every `scrub_interval`, throttled so that it
// takes at most about a quarter of one core.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "eventstore/signed_checkpoints.hpp"
#include "projections/merkle_index.hpp"
#include "service/integrity.hpp"
#include "service/verify_report.hpp"
#include "service/witness.hpp"

namespace tl {

struct Damage {
  std::uint64_t seq = 0;
  std::string kind;
  std::string problem;
};

struct ScrubStatus {
  std::uint64_t runs = 0;               // completed scrubs
  bool last_ok = true;                  // the last completed scrub passed (true before the first)
  std::uint64_t last_events = 0;        // records it walked
  double last_seconds = 0;              // how long it took, throttle included
  std::int64_t last_finished_unix = 0;  // 0: none yet
  bool running = false;
};

// A full check (check_integrity) this process completed: what verify answers build on until the
// next one (issue 16).
struct FullCheck {
  IntegrityReport report;
  Timestamp completed_at{};
  std::string source;  // "scrub" (the background scrub) or "request" (GET /api/v1/audit/verify?full=true)
  double seconds = 0;  // how long it took
};

// A verify answer built on the newest full check (or the start-up checks): see verify_answer_json.
struct VerifyAnswer {
  IntegrityReport report;
  bool indexes_checked = false;  // every index entry up to the head: a full check passed, then the walk
  ScrubBasis scrub;
  std::optional<TailWalk> walked;
};

class IntegrityGuard {
 public:
  struct Options {
    std::string witness_file;  // read by every scrub (the checkpoints a witness saw)
    std::string trusted_public_key;
    std::chrono::hours scrub_interval{24};  // 0: no background scrub
    double scrub_duty = 0.25;               // share of one core the scrub may use
    bool read_only = false;                 // --read-only: the scrub signs nothing
  };

  IntegrityGuard(EventLog& store, CheckpointSigner& signer, Witnesses& witnesses, Options options);
  ~IntegrityGuard();

  // Records damage: from now on writes are refused and no checkpoint is signed. Logged once.
  void report_damage(const IntegrityReport& report);
  std::optional<Damage> damage() const;

  // A full check of the whole log passed in this run (a full check at start, or the first scrub):
  // only then are checkpoints signed, so that no signature vouches for damage the start-up checks
  // cannot see (they read only a few records). Without a scrub (--scrub-hours 0) the start-up
  // checks are all there is, and the caller vouches after them.
  void vouch() { vouched_ = true; }
  bool vouched() const { return vouched_; }

  // Signs the head (unless the newest checkpoint already names it) and witnesses it; refused
  // (unavailable) when damage was found, or before a full check passed in this run. Called by the
  // timer, after the first scrub, at shutdown and by the HTTP route.
  Result<SignedCheckpoint> sign_checkpoint();
  // From now on every checkpoint signed is accompanied by a signed tree head of the log's RFC 9162
  // tree at its seq (eventstore/tree_heads.hpp), named `origin` ("tokenledger/<database id>").
  // Called once, before the first sign_checkpoint() and the scrub.
  void sign_tree_heads(const MerkleIndex* merkle, std::string origin) {
    merkle_ = merkle;
    origin_ = std::move(origin);
  }
  // Seconds since the newest checkpoint was signed; nullopt when none exists.
  std::optional<double> checkpoint_age_seconds() const;

  // What every full check of this server uses: its signing key pinned, the witness file's
  // checkpoints (read now; a file that cannot be read is logged and left out).
  IntegrityOptions check_options() const;

  void start_scrub();  // runs one scrub now, then every scrub_interval
  void stop();         // stops the scrub (it finishes within one 1024-record step)
  ScrubStatus scrub_status() const;

  // The head the start-up checks vouched for: what their walk reached (--verify-on-start tail or
  // full, or the full check of a small log), else the newest signed checkpoint they checked, else
  // seq 0. Verify answers walk from it until the first full check of this process completes.
  void set_start_base(Head head);
  // The newest full check of this process (the scrub's or a requested one); nullopt before one completed.
  std::optional<FullCheck> last_full_check() const;
  // A full check now, unthrottled, on the calling thread, recorded as last_full_check(); nullopt
  // when a requested one is running already (one at a time: each walks the whole log).
  std::optional<IntegrityReport> full_check_now();
  // Seconds a client should wait before asking for another full check: how long the last one
  // took, at least 1.
  std::uint64_t full_check_retry_seconds() const;
  // GET /api/v1/audit/verify: the newest full check's result, and check_since() from the head
  // checked last: the one that check walked to, or the one an answer after it walked to (before
  // the first full check, the start base). A walk that passes moves that head on, so answers
  // polled in a row each walk only what came since the one before. Damage found before (by a
  // full check or the start-up checks) is answered as found, without a walk.
  // O(records since the last check or answer).
  VerifyAnswer verify_since_last_check();
  const Witnesses& witnesses() const { return witnesses_; }

 private:
  void scrub_loop();
  void scrub_once();

  EventLog& store_;
  CheckpointSigner& signer_;
  const MerkleIndex* merkle_ = nullptr;
  std::string origin_;
  Witnesses& witnesses_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Damage> damage_;
  std::atomic<bool> vouched_{false};
  ScrubStatus scrub_;
  void record_full_check(FullCheck check);  // holds mutex_

  Head checked_to_;  // the head up to which the chain is vouched for: see verify_since_last_check
  std::optional<FullCheck> last_full_;
  std::atomic<bool> full_running_{false};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tl
