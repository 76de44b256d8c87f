// Witnesses of the log's head, kept outside the data directory (issue 11): every signed
// checkpoint is appended to a witness file (one JSON line: the stored checkpoint line, which
// names its public_key; appended and fsynced) and/or posted to a witness URL. Whoever can edit the
// data directory cannot edit the witness, so a cut of the newest events, or a rewrite re-signed
// with the data directory's own key, no longer matches what the witness saw.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/signed_checkpoints.hpp"

namespace tl {

// The checkpoints in a witness file, oldest first. A missing file is an empty list when
// `missing_ok`, else an error; a line that is not a checkpoint is an error naming the line.
Result<std::vector<SignedCheckpoint>> read_witness_file(const std::string& path, bool missing_ok);

struct WitnessStatus {
  std::uint64_t delivered = 0;  // checkpoint deliveries that succeeded (file and URL counted apart)
  std::uint64_t failures = 0;   // attempts that failed (each is retried)
  std::size_t pending = 0;      // checkpoints waiting for a retry
  std::string last_error;       // "" when the last attempt succeeded
};

class Witnesses {
 public:
  // `post` delivers one checkpoint line to the witness URL (true: 2xx); empty when none.
  Witnesses(std::string file, std::function<bool(const std::string&)> post);

  bool configured() const { return !file_.empty() || post_; }
  // Hands a new checkpoint to every witness; what fails is kept and retried by the next call or
  // by retry(). Never throws; serving goes on whatever a witness does.
  void witness(const SignedCheckpoint& checkpoint);
  void retry();
  WitnessStatus status() const;

 private:
  struct Pending {
    std::string line;
    bool to_file = false;
    bool to_url = false;
  };
  void deliver_pending();  // delivery_mutex_ held
  bool append_to_file(const std::string& line, std::string& error);

  std::string file_;
  std::function<bool(const std::string&)> post_;
  // One delivery at a time, in order; status readers (/readyz, /metrics) never wait for one.
  std::mutex delivery_mutex_;
  mutable std::mutex mutex_;  // pending_ and status_
  std::deque<Pending> pending_;
  WitnessStatus status_;
};

}  // namespace tl
