#include "fault_workload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace faults {

using e2e::HttpClient;
using e2e::Json;
using e2e::Response;

std::string auditor_name() { return "fault-auditor"; }

std::size_t UserLedger::live() const {
  return static_cast<std::size_t>(std::count_if(
      tokens.begin(), tokens.end(), [](const auto& t) { return !t.second.deleted && !t.second.maybe_deleted; }));
}

Workload::Workload(HttpClient& admin, int users, std::uint32_t seed) : seed_(seed) { create_users(admin, users); }

Workload::Workload(const e2e::TestServer& server, int users, std::uint32_t seed) : seed_(seed) {
  HttpClient admin = e2e::login(server, "admin");
  create_users(admin, users);
}

void Workload::create_users(HttpClient& admin, int users) {
  for (int i = 0; i < users; ++i) {
    const std::string name = "fault-user-" + std::to_string(i);
    e2e::create_user(admin, name, {"api-tokens"});
    ledgers_.push_back({name, {}, {}, 0});
  }
  e2e::create_user(admin, auditor_name(), {"auditors"});
}

std::optional<int> Workload::interrupt(e2e::TestServer& server, int signal, std::chrono::milliseconds after,
                                       std::chrono::seconds wait) {
  std::atomic<bool> stop{false};
  std::thread clients([&] { run(server, stop); });
  std::this_thread::sleep_for(after);
  server.signal(signal);
  const auto status = server.wait_exit(wait);
  stop = true;
  clients.join();
  return status;
}

void Workload::run(const e2e::TestServer& server, const std::atomic<bool>& stop) {
  ++round_;
  std::vector<Counts> counts(ledgers_.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ledgers_.size(); ++i) {
    const auto seed = static_cast<std::uint32_t>(seed_ * 7919u + static_cast<std::uint32_t>(round_) * 131u + i);
    threads.emplace_back([&, i, seed] { drive(server, ledgers_[i], seed, stop, counts[i]); });
  }
  for (auto& t : threads) t.join();
  for (const Counts& c : counts) {
    counts_.creates += c.creates;
    counts_.edits += c.edits;
    counts_.reveals += c.reveals;
    counts_.deletes += c.deletes;
    counts_.unanswered += c.unanswered;
    counts_.refused += c.refused;
  }
}

// One client: a bounded loop of random operations on the user's own tokens. The first request
// that gets no answer ends it (the server is gone); its change is recorded as "maybe".
void Workload::drive(const e2e::TestServer& server, UserLedger& ledger, std::uint32_t seed,
                     const std::atomic<bool>& stop, Counts& counts) {
  std::mt19937 rng(seed);
  std::optional<HttpClient> client;
  try {
    client.emplace(e2e::login(server, ledger.user));
  } catch (const std::exception&) {
    return;  // killed before we could sign in: nothing was sent
  }
  auto pick_live = [&]() -> std::string {
    std::vector<std::string> live;
    for (const auto& [id, t] : ledger.tokens) {
      if (!t.deleted && !t.maybe_deleted) live.push_back(id);
    }
    return live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng)];
  };
  for (int step = 0; step < 100000 && !stop.load(); ++step) {
    const std::size_t live = ledger.live();
    const int dice = std::uniform_int_distribution<int>(0, 99)(rng);
    const TokenState next{ledger.user + " d" + std::to_string(ledger.next_description++),
                          std::uniform_int_distribution<std::int64_t>(1, 365)(rng)};
    try {
      if (live < 3 || (dice < 30 && live < 60)) {
        Response res;
        try {
          res = client->post("/api/v1/tokens", e2e::token_body(next.description, next.days));
        } catch (const std::exception&) {
          ledger.maybe_created.push_back(next);
          throw;
        }
        if (res.status != 201) {
          ++counts.refused;
          continue;
        }
        const Json j = res.json();
        ledger.tokens[j["id"].str()].acked = next;
        ++counts.creates;
      } else if (dice < 60) {
        const std::string id = pick_live();
        TokenEntry& t = ledger.tokens[id];
        Response res;
        try {
          res = client->patch("/api/v1/tokens/" + id, e2e::token_body(next.description, next.days));
        } catch (const std::exception&) {
          t.maybe_edit = next;
          throw;
        }
        if (res.status != 200) {
          ++counts.refused;
          continue;
        }
        t.acked = next;
        ++counts.edits;
      } else if (dice < 88) {
        const std::string id = pick_live();
        TokenEntry& t = ledger.tokens[id];
        t.reveals_dirty = true;
        Response res;
        try {
          res = client->post("/api/v1/tokens/" + id + "/reveal");
        } catch (const std::exception&) {
          ++t.reveals_maybe;
          throw;
        }
        if (res.status != 200) {
          ++counts.refused;
          continue;
        }
        ++t.reveals_acked;
        ++counts.reveals;
      } else {
        const std::string id = pick_live();
        TokenEntry& t = ledger.tokens[id];
        Response res;
        try {
          res = client->del("/api/v1/tokens/" + id);
        } catch (const std::exception&) {
          t.maybe_deleted = true;
          throw;
        }
        if (res.status != 204) {
          ++counts.refused;
          continue;
        }
        t.deleted = true;
        ++counts.deletes;
      }
    } catch (const std::exception&) {
      ++counts.unanswered;
      return;
    }
  }
}

namespace {

std::string state_text(const TokenState& s) { return "\"" + s.description + "\"/" + std::to_string(s.days) + "d"; }

// Every TokenRevealed of one token in the audit trail (following pages).
std::int64_t revealed_count(HttpClient& auditor, const std::string& id) {
  return static_cast<std::int64_t>(
      e2e::audit_events(auditor, "type=TokenRevealed&token_id=" + e2e::url_encode(id)).size());
}

}  // namespace

int Workload::check(const e2e::TestServer& server, std::int64_t& events) {
  HttpClient auditor = e2e::login(server, auditor_name());
  int problems = 0;
  for (UserLedger& ledger : ledgers_) problems += check_user(server, auditor, ledger);
  const Response verify = auditor.get("/api/v1/audit/verify");
  if (verify.status != 200 || !verify.json()["ok"].boolean()) {
    ADD_FAILURE() << "the chain does not verify after the restart: " << e2e::describe(verify);
    return problems + 1;
  }
  events = verify.json()["events"].integer();
  return problems;
}

int Workload::check_user(const e2e::TestServer& server, HttpClient& auditor, UserLedger& ledger) {
  int problems = 0;
  auto fail = [&](const std::string& what) {
    ADD_FAILURE() << ledger.user << ": " << what;
    ++problems;
  };
  HttpClient client = e2e::login(server, ledger.user);
  const Response list = client.get("/api/v1/tokens");
  if (list.status != 200) {
    fail("listing tokens: " + e2e::describe(list));
    return problems;
  }
  std::map<std::string, TokenState> found;
  const Json listed = list.json();  // (kept alive: a range-for over a temporary's member dangles)
  for (const Json& t : listed["tokens"].items()) {
    found[t["id"].str()] = {t["description"].str(), t["timeout"]["value"].integer()};
  }
  for (auto& [id, t] : ledger.tokens) {
    ++counts_.checked_tokens;
    const auto it = found.find(id);
    if (t.deleted) {
      if (it != found.end()) fail("token " + id + " was deleted (204) but is listed");
      if (!t.delete_checked) {
        const Response one = client.get("/api/v1/tokens/" + id);
        if (one.status != 404) fail("deleted token " + id + " answers " + e2e::describe(one));
        t.delete_checked = true;
      }
    } else if (it == found.end()) {
      if (!t.maybe_deleted) {
        fail("token " + id + " (acknowledged as " + state_text(t.acked) + ") is missing");
      } else {
        const Response one = client.get("/api/v1/tokens/" + id);
        if (one.status != 404) fail("token " + id + " is not listed but answers " + e2e::describe(one));
        t.deleted = t.delete_checked = true;
      }
    } else {
      const TokenState& actual = it->second;
      if (actual != t.acked && !(t.maybe_edit && actual == *t.maybe_edit)) {
        fail("token " + id + " is " + state_text(actual) + ", acknowledged " + state_text(t.acked) +
             (t.maybe_edit ? ", unanswered edit " + state_text(*t.maybe_edit) : std::string()));
      }
      t.acked = actual;  // adopt what the server has: no uncertainty left for the next cycle
    }
    t.maybe_edit.reset();
    t.maybe_deleted = false;
    if (t.reveals_dirty) {
      ++counts_.checked_reveal_trails;
      const std::int64_t n = revealed_count(auditor, id);
      if (n < t.reveals_acked || n > t.reveals_acked + t.reveals_maybe) {
        fail("token " + id + " has " + std::to_string(n) + " TokenRevealed in the audit trail, acknowledged " +
             std::to_string(t.reveals_acked) + " (+" + std::to_string(t.reveals_maybe) + " unanswered)");
      }
      t.reveals_acked = n;
      t.reveals_maybe = 0;
      t.reveals_dirty = false;
    }
  }
  // Tokens the ledger does not know: only unanswered creates, each applied whole.
  for (const auto& [id, actual] : found) {
    if (ledger.tokens.contains(id)) continue;
    const auto m = std::find(ledger.maybe_created.begin(), ledger.maybe_created.end(), actual);
    if (m == ledger.maybe_created.end()) {
      fail("unknown token " + id + " " + state_text(actual) + " (no create of it was sent)");
      continue;
    }
    ledger.maybe_created.erase(m);
    ledger.tokens[id].acked = actual;
    ++counts_.adopted;
  }
  ledger.maybe_created.clear();
  return problems;
}

std::string Workload::summary() const {
  std::ostringstream out;
  out << "acknowledged: " << counts_.creates << " creates, " << counts_.edits << " edits, " << counts_.reveals
      << " reveals, " << counts_.deletes << " deletes; " << counts_.unanswered << " unanswered, " << counts_.refused
      << " refused, " << counts_.adopted << " unanswered creates found applied; checked " << counts_.checked_tokens
      << " token states, " << counts_.checked_reveal_trails << " reveal trails";
  return out.str();
}

}  // namespace faults
