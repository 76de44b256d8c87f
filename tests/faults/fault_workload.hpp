// The fault tests' workload: several client threads, each signed in as its own user, create,
// edit, reveal and delete that user's tokens until told to stop or until the server goes away.
// Every change answered with a 2xx is recorded as acknowledged; a request without an answer
// (the server was killed or stopped under it) is recorded as "maybe applied". After a restart,
// check() compares the server with the ledger and then adopts what it found, so the next cycle
// starts from a state with no uncertainty.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_server.hpp"

namespace faults {

struct TokenState {
  std::string description;
  std::int64_t days = 0;
  bool operator==(const TokenState&) const = default;
};

struct TokenEntry {
  TokenState acked;
  std::optional<TokenState> maybe_edit;  // an edit sent but not answered
  bool deleted = false;                  // an acknowledged delete
  bool maybe_deleted = false;            // a delete sent but not answered
  bool delete_checked = false;           // the 404 was seen after a restart
  std::int64_t reveals_acked = 0;        // TokenRevealed events acknowledged so far
  std::int64_t reveals_maybe = 0;        // reveals sent but not answered (since the last check)
  bool reveals_dirty = false;            // revealed since the last check
};

struct UserLedger {
  std::string user;
  std::map<std::string, TokenEntry> tokens;
  std::vector<TokenState> maybe_created;  // creates sent but not answered
  std::int64_t next_description = 0;
  std::size_t live() const;
};

struct Counts {
  std::int64_t creates = 0, edits = 0, reveals = 0, deletes = 0;  // acknowledged
  std::int64_t unanswered = 0;                                    // requests cut off by the kill or the stop
  std::int64_t refused = 0;                                       // non-2xx answers (not applied)
  std::int64_t adopted = 0;                                       // unanswered creates found applied after the restart
  std::int64_t checked_tokens = 0, checked_reveal_trails = 0;
};

class Workload {
 public:
  // Creates `users` members of api-tokens and an auditor through `admin`.
  Workload(e2e::HttpClient& admin, int users, std::uint32_t seed);
  // The same, signed in as the server's admin.
  Workload(const e2e::TestServer& server, int users, std::uint32_t seed);

  // One cycle of the crash and shutdown tests: the clients write (run) for `after`, then
  // `signal` goes to the server; once the clients have ended, returns the server's exit status
  // (nullopt when it did not exit within `wait`).
  std::optional<int> interrupt(e2e::TestServer& server, int signal, std::chrono::milliseconds after,
                               std::chrono::seconds wait);

  // Runs one client thread per user against `server` until `stop` is set or the thread's
  // request fails on the network. Returns when every thread has ended.
  void run(const e2e::TestServer& server, const std::atomic<bool>& stop);

  // After a restart: every acknowledged change is there, unanswered ones are either fully there
  // or absent, nothing else exists, and the chain verifies. Adds failures with ADD_FAILURE and
  // returns the number of problems. Returns the number of events in the log through `events`.
  int check(const e2e::TestServer& server, std::int64_t& events);

  const Counts& counts() const { return counts_; }
  std::string summary() const;

 private:
  void create_users(e2e::HttpClient& admin, int users);
  void drive(const e2e::TestServer& server, UserLedger& ledger, std::uint32_t seed, const std::atomic<bool>& stop,
             Counts& counts);
  int check_user(const e2e::TestServer& server, e2e::HttpClient& auditor, UserLedger& ledger);

  std::vector<UserLedger> ledgers_;
  std::uint32_t seed_;
  int round_ = 0;
  Counts counts_;
};

std::string auditor_name();

}  // namespace faults
