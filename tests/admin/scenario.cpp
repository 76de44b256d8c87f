#include "scenario.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "common/time_format.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"

namespace admin_test {
namespace {

template <class T>
T must(tl::Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(r).value();
}

void must(const tl::Status& s, const std::string& what) {
  if (!s) throw std::runtime_error(what + ": " + s.error().message);
}

tl::RequestContext as(const std::string& user, int request) {
  return {{user, tl::Via::session, ""}, {"192.0.2.7", "scenario-agent/1.0", "req-" + std::to_string(request)}};
}

void sort_by_id(std::vector<TokenView>& tokens) {
  std::sort(tokens.begin(), tokens.end(), [](const TokenView& a, const TokenView& b) { return a.id < b.id; });
}

}  // namespace

Scenario build_scenario(const std::string& data_dir) {
  tl::ensure_sodium();
  spdlog::set_level(spdlog::level::warn);
  Scenario scenario;
  std::filesystem::create_directories(data_dir);  // as the server does: owner-only
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  const auto key = must(tl::load_or_create_key_file(data_dir + "/master.key"), "master key");
  // All three key files, as the server makes them: it refuses to start on a database with history
  // when one is missing.
  must(tl::load_or_create_secret_file(data_dir + "/introspection.secret"), "introspection secret");
  auto store =
      must(tl::EventStore::open(data_dir + "/db", {.extra_column_families = tl::ReadModel::column_families()}), "open");
  tl::ReadModel model(*store);
  must(model.load(), "load");
  tl::TokenSecrets secrets(key);
  tl::TokenService tokens(*store, model, secrets, 100);
  tl::UserService users(*store, model);
  auto signer = must(tl::CheckpointSigner::load_or_create(data_dir + "/signing.key"), "signing key");
  scenario.public_key = signer->public_key_hex();
  auto sign = [&] { scenario.checkpoint_seqs.push_back(must(signer->sign_head(*store), "checkpoint").seq); };

  // The services' commands, run to their end as the admin tool runs them.
  auto run = [&](auto command) { return tl::run_command(*store, std::move(command)); };
  int request = 0;
  // After each step: the head and the live token table, as the API would have served it then.
  auto snapshot = [&] {
    Snapshot snap;
    snap.seq = store->head().seq;
    auto head = must(store->read(snap.seq), "read head");
    snap.at = tl::format_rfc3339((*head).at);
    for (const tl::TokenRow& row : model.tokens().all()) {
      const tl::TokenState& s = row.state;
      snap.tokens.push_back(
          {s.id, s.owner, s.description, tl::format_rfc3339(s.created_at), s.timeout_days, s.version});
    }
    sort_by_id(snap.tokens);
    scenario.snapshots.push_back(std::move(snap));
    // Distinct times per step, so that a time bound falls between two steps.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  };
  auto create = [&](const std::string& owner, const std::string& description, int days) {
    auto row = must(run(tokens.create(as(owner, ++request), description, days, tl::now_ms())), "create token");
    snapshot();
    return row.state.id;
  };
  auto reveal = [&](const std::string& user, const std::string& id) {
    scenario.codes.push_back(must(run(tokens.reveal(as(user, ++request), id)), "reveal"));
    snapshot();
  };

  must(users.bootstrap_admin("admin-password-scenario"), "bootstrap admin");
  snapshot();
  must(run(users.create(as("admin", ++request), "alice", "alice-password-1", {"api-tokens", "auditors"})), "alice");
  snapshot();
  must(run(users.create(as("admin", ++request), "bob", "bob-password-12", {"api-tokens"})), "bob");
  snapshot();
  scenario.t1 = create("alice", "CI pipeline", 15);
  scenario.t2 = create("alice", "deploy bot", 30);
  scenario.t3 = create("bob", "bob's one-day script", 1);
  sign();  // at seq 6
  reveal("alice", scenario.t1);
  tl::UpdateToken update{.description = "deploy bot (prod)", .timeout_days = 60, .if_match = std::nullopt};
  must(run(tokens.update(as("alice", ++request), scenario.t2, update, tl::now_ms())), "update");
  snapshot();
  must(run(tokens.remove(as("alice", ++request), scenario.t1)), "delete");
  snapshot();
  scenario.t4 = create("bob", "second script", 7);
  reveal("bob", scenario.t4);
  must(run(users.set_groups(as("admin", ++request), "bob", {"api-tokens", "auditors"})), "groups");
  snapshot();

  sign();  // at the head, seq 13
  store->stop_appender();
  must(model.save_checkpoint(), "checkpoint");
  scenario.head_seq = store->head().seq;
  scenario.head_hash = store->head().hash;
  store->close();
  return scenario;
}

std::vector<TokenView> replay_tokens(const std::string& json) {
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, json);
  std::vector<TokenView> tokens;
  for (simdjson::dom::element t : doc["tokens"].get_array()) {
    TokenView v;
    v.id = std::string(t["id"].get_string().value());
    v.owner = std::string(t["owner"].get_string().value());
    v.description = std::string(t["description"].get_string().value());
    v.created_at = std::string(t["created_at"].get_string().value());
    v.timeout_days = t["timeout_days"].get_int64().value();
    v.version = t["version"].get_uint64().value();
    tokens.push_back(std::move(v));
  }
  sort_by_id(tokens);
  return tokens;
}

std::string to_string(const std::vector<TokenView>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    out += t.id + " " + t.owner + " \"" + t.description + "\" " + t.created_at + " " + std::to_string(t.timeout_days) +
           "d v" + std::to_string(t.version) + "\n";
  }
  return out.empty() ? "(none)\n" : out;
}

}  // namespace admin_test
