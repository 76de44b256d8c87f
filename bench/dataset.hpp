// Synthetic data sets for the benchmarks: a data directory in exactly the format the server
// serves (key files, users with credentials, tokens with sealed codes and data keys, the audit
// index, the projection checkpoint and a signed head checkpoint), filled through EventStore with
// the ReadModel attached, so every byte is written by the production code paths.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "domain/events.hpp"
#include "domain/result.hpp"
#include "eventstore/event_store.hpp"

namespace tl::bench {

struct DatasetOptions {
  std::string dir;                // must not exist, or be empty
  std::uint64_t events = 0;       // events in all, users included
  std::uint64_t live_tokens = 0;  // 0: events / 10
  std::uint64_t users = 1000;     // owners of the tokens besides `user`
  std::string user = "bench";     // in groups api-tokens and auditors
  std::string password = "bench-password-1";
  std::uint64_t codes = 1000;  // live tokens of `user`, whose codes go to codes_out
  std::string codes_out;       // "<token id> <code>" lines; none when empty
  bool checkpoint = true;      // projection checkpoint and signed head checkpoint
  bool progress = false;       // on stderr
};

struct DatasetSummary {
  std::uint64_t events = 0;
  std::uint64_t live_tokens = 0;
  std::uint64_t users = 0;
  // The least --max-tokens-per-user under which the server accepts the generated state and
  // still lets every user create a token.
  std::uint64_t max_tokens_per_user = 0;
  double seconds = 0;
};

Result<DatasetSummary> generate_dataset(const DatasetOptions& options);

// Removes the projection state (rows and checkpoint key) of a data directory, so the next start
// folds from seq 1. The audit index stays: it is written with the log, not checkpointed.
Status drop_projection_checkpoint(const std::string& dir);

// Removes the audit index's owner keys and their marker (AuditIndex::kOwnerIndexMarker), as a
// directory of a release before them: a --read-only server then answers as_of by folding the
// log from seq 1 (the old cost, bench row 10), and the next writable start back-fills them.
Status drop_owner_index(const std::string& dir);

// The database directory inside a data directory, as the server opens it.
std::string db_path(const std::string& data_dir);

// A realistic request origin: IPv4 or IPv6 address, a browser/CLI user agent, a request id.
Source random_source(std::mt19937_64& rng);

}  // namespace tl::bench
