// A data directory built by a scripted scenario with the libraries themselves (EventStore,
// ReadModel, UserService, TokenService), recording the token table after every step so that
// `replay` can be compared with what the server would have served at that point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "admin_harness.hpp"
#include "eventstore/event_store.hpp"

namespace admin_test {

// One token as the live table showed it, in a form both sides can produce.
struct TokenView {
  std::string id, owner, description, created_at;
  std::int64_t timeout_days = 0;
  std::uint64_t version = 0;
  bool operator==(const TokenView&) const = default;
};

struct Snapshot {
  std::uint64_t seq = 0;          // the head after the step
  std::string at;                 // the time of that head record (RFC 3339)
  std::vector<TokenView> tokens;  // sorted by id
};

struct Scenario {
  std::vector<Snapshot> snapshots;
  std::vector<std::string> codes;  // every code the scenario revealed or created
  std::string t1, t2, t3, t4;      // token ids: alice's t1 (deleted), t2 (edited); bob's t3 (1 day), t4
  std::uint64_t head_seq = 0;
  std::string head_hash;
  std::vector<std::uint64_t> checkpoint_seqs;  // signed with DIR/signing.key
  std::string public_key;
};

// Builds the scenario in `data_dir` (DIR/db, DIR/master.key) and closes the store.
Scenario build_scenario(const std::string& data_dir);

// The tokens of `replay --json` output, sorted by id.
std::vector<TokenView> replay_tokens(const std::string& json);

std::string to_string(const std::vector<TokenView>& tokens);

}  // namespace admin_test
