#include "bench/dataset.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <semaphore>
#include <vector>

#include "bench/timing.hpp"
#include "common/time_format.hpp"
#include "domain/token.hpp"
#include "domain/user.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/passwords.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/merkle_index.hpp"
#include "projections/read_model.hpp"
#include "service/user_service.hpp"

namespace fs = std::filesystem;

namespace tl::bench {
namespace {

constexpr const char* kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Terraform/1.9.8 (+https://www.terraform.io) tokenledger-provider/0.4.2",
};

constexpr const char* kDescriptions[] = {
    "CI pipeline (prod)",
    "Grafana dashboard",
    "nightly export to S3",
    "MISP feed sync",
    "Splunk forwarder",
    "threat feed puller",
    "SOAR playbook: enrichment",
    "Jupyter notebook, ad hoc",
    "staging smoke tests",
    "IOC bulk upload",
    "Slack bot",
    "backup of the watchlists",
};

constexpr const char* kDeleteReasons[] = {"offboarding: left the company", "suspected leak in a public repository"};

// Bounds memory and keeps the appender fed: the generator runs ahead by at most this many appends.
constexpr std::ptrdiff_t kWindow = 20000;

std::uint64_t pick(std::mt19937_64& rng, std::uint64_t n) { return n == 0 ? 0 : rng() % n; }

struct LiveToken {
  std::string id;
  std::uint32_t owner = 0;
  std::uint64_t version = 0;
};

// Appends asynchronously within a window; the first failure stops the generation.
class Appender {
 public:
  explicit Appender(EventStore& store) : store_(store) {}
  bool submit(AppendRequest request) {
    window_.acquire();
    store_.append_async(std::move(request), [this](Result<AppendResult> r) {
      if (!r) {
        std::lock_guard lock(mutex_);
        if (error_.empty()) error_ = r.error().message;
        failed_ = true;
      }
      window_.release();
    });
    return !failed_;
  }
  // Waits for every append in flight; the first error, if any.
  std::string drain() {
    for (std::ptrdiff_t i = 0; i < kWindow; ++i) window_.acquire();
    window_.release(kWindow);
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  EventStore& store_;
  std::counting_semaphore<kWindow> window_{kWindow};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::string error_;
};

Status prepare_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Error::conflict(dir + " exists and is not empty; give a new directory");
  }
  fs::create_directories(dir, ec);
  if (ec) return Error::unavailable("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return {};
}

}  // namespace

std::string db_path(const std::string& data_dir) { return (fs::path(data_dir) / "db").string(); }

Source random_source(std::mt19937_64& rng) {
  char ip[64];
  if (rng() % 8 == 0) {
    std::snprintf(ip, sizeof ip, "2001:db8:%x:%x::%x", static_cast<unsigned>(rng() % 0xffff),
                  static_cast<unsigned>(rng() % 0xffff), static_cast<unsigned>(rng() % 0xffff + 1));
  } else {
    std::snprintf(ip, sizeof ip, "10.%u.%u.%u", static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
                  static_cast<unsigned>(rng() % 254 + 1));
  }
  char request_id[17];
  std::snprintf(request_id, sizeof request_id, "%016llx", static_cast<unsigned long long>(rng()));
  return {ip, kUserAgents[pick(rng, std::size(kUserAgents))], request_id};
}

Status drop_projection_checkpoint(const std::string& dir) {
  auto store = EventStore::open(db_path(dir), {.extra_column_families = ReadModel::column_families()});
  if (!store) return std::move(store).error();
  auto dropped = ReadModel::drop_saved_state(**store);
  (*store)->close();
  return dropped;
}

Status drop_owner_index(const std::string& dir) {
  auto store = EventStore::open(db_path(dir), {.extra_column_families = ReadModel::column_families()});
  if (!store) return std::move(store).error();
  StateStore& state = (*store)->state();
  Status dropped = state.erase_range(AuditIndex::kColumnFamily, "o", "p");
  const std::string marker(AuditIndex::kOwnerIndexMarker);
  if (dropped) dropped = state.erase_range(AuditIndex::kColumnFamily, marker, marker + '\0');
  (*store)->close();
  return dropped;
}

Result<DatasetSummary> generate_dataset(const DatasetOptions& o) {
  const auto started = Clock::now();
  const std::uint64_t user_events = 2 + o.users;  // admin, the bench user, the others
  if (o.events < user_events) {
    return Error::invalid_field("--events must be at least --users + 2 (" + std::to_string(user_events) + ")");
  }
  const std::uint64_t budget = o.events - user_events;
  const std::uint64_t live_target = std::max(o.live_tokens == 0 ? o.events / 10 : o.live_tokens, o.codes);
  if (live_target > budget) return Error::invalid_field("more live tokens than events");
  if (live_target > o.codes && o.users == 0) return Error::invalid_field("--users 0 leaves the tokens no owner");
  // A quarter as many deletes (each re-created) as live tokens, if the events allow.
  const std::uint64_t deletes = std::min(live_target / 4, (budget - live_target) / 2);
  std::uint64_t creates_left = live_target + deletes - o.codes;
  std::uint64_t deletes_left = deletes;
  std::uint64_t others_left = budget - live_target - 2 * deletes;

  if (auto ready = prepare_dir(o.dir); !ready) return std::move(ready).error();
  const fs::path dir(o.dir);
  auto master_key = load_or_create_key_file((dir / "master.key").string());
  if (!master_key) return std::move(master_key).error();
  if (auto s = load_or_create_secret_file((dir / "introspection.secret").string()); !s) return std::move(s).error();
  auto signer = CheckpointSigner::load_or_create((dir / "signing.key").string());
  if (!signer) return std::move(signer).error();

  auto opened = EventStore::open(
      db_path(o.dir),
      {.extra_column_families = ReadModel::column_families(), .sync = false, .stream_version_cache = 4'000'000});
  if (!opened) return std::move(opened).error();
  EventStore& store = **opened;
  ReadModel model(store);
  if (auto loaded = model.load(); !loaded) return std::move(loaded).error();
  // The Merkle tree's chunks saved as the server saves them, so its start folds only the tail.
  MerkleIndex merkle(store);
  if (auto loaded = merkle.load(); !loaded) return std::move(loaded).error();

  // The same calls the server makes for its first account and an admin's user creation.
  UserService user_service(store, model);
  const char* admin_password = std::getenv("TOKENLEDGER_ADMIN_PASSWORD");
  if (auto admin = user_service.bootstrap_admin(admin_password ? admin_password : ""); !admin) {
    return std::move(admin).error();
  }
  std::mt19937_64 rng(20261127);
  const Actor admin_actor{"admin", Via::session, {}};
  const RequestContext admin_ctx{admin_actor, random_source(rng)};
  auto bench_user = run_command(
      store,
      user_service.create(admin_ctx, o.user, o.password, {std::string(kGroupApiTokens), std::string(kGroupAuditors)}));
  if (!bench_user) return std::move(bench_user).error();

  // Argon2id costs tens of milliseconds: the other users (nobody signs in as them) share one hash.
  const std::string shared_hash = hash_password(random_password());
  std::vector<std::string> owners{o.user};
  Appender appender(store);
  for (std::uint64_t i = 1; i <= o.users; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "user-%05llu", static_cast<unsigned long long>(i));
    owners.emplace_back(name);
    auto created = decide_create_user(UserState{}, name, {std::string(kGroupApiTokens)});
    if (!created) return std::move(created).error();
    appender.submit({user_stream(name),
                     kNoStream,
                     {std::move(created).value()},
                     admin_actor,
                     random_source(rng),
                     {},
                     {{SideStore::credentials, name, shared_hash}}});
  }

  TokenSecrets secrets(*master_key);
  std::vector<LiveToken> live;  // live[0, codes) are the bench user's and are never deleted
  live.reserve(live_target + 1);
  std::ofstream codes_out;
  if (!o.codes_out.empty()) {
    codes_out.open(o.codes_out, std::ios::trunc);
    if (!codes_out) return Error::unavailable("cannot write " + o.codes_out);
    ::chmod(o.codes_out.c_str(), 0600);
  }

  auto token_actor = [&](const LiveToken& t) {
    const std::string& owner = owners[t.owner];
    return rng() % 4 == 0 ? Actor{owner, Via::api_token, t.id} : Actor{owner, Via::session, {}};
  };
  auto create = [&](std::uint32_t owner) {
    const std::string id = new_ulid("tok_");
    const std::string code = secrets.generate_code();
    SealedCode sealed = secrets.seal(id, code);
    const CreateToken cmd{owners[owner], kDescriptions[pick(rng, std::size(kDescriptions))],
                          static_cast<std::int64_t>(pick(rng, kMaxTimeoutDays) + 1), secrets.lookup_hash(code),
                          sealed.code_sealed};
    auto created = decide_create(cmd, 0, SIZE_MAX);
    if (!created) return false;
    if (owner == 0 && codes_out.is_open()) codes_out << id << ' ' << code << '\n';
    live.push_back({id, owner, 1});
    return appender.submit({id,
                            kNoStream,
                            {std::move(created).value()},
                            Actor{owners[owner], Via::session, {}},
                            random_source(rng),
                            owners[owner],
                            {{SideStore::keys, id, std::move(sealed.wrapped_data_key)}}});
  };
  auto other = [&](LiveToken& t) {
    AppendRequest req{t.id, t.version, {}, token_actor(t), random_source(rng), owners[t.owner], {}};
    const std::uint64_t roll = pick(rng, 100);
    if (roll < 50) {
      // As the usage tracker writes it: the token itself is the actor, only the address is known.
      const std::string ip = random_source(rng).ip;
      req.actor = {owners[t.owner], Via::api_token, t.id};
      req.source = {ip, {}, {}};
      req.events.emplace_back(TokenUsed{now_ms(), ip});
    } else if (roll < 75) {
      req.events.emplace_back(TokenRevealed{});
    } else if (roll < 90) {
      req.events.emplace_back(TokenDescriptionChanged{std::string(kDescriptions[pick(rng, std::size(kDescriptions))]) +
                                                      " #" + std::to_string(pick(rng, 100))});
    } else {
      req.events.emplace_back(TokenTimeoutChanged{static_cast<int>(pick(rng, kMaxTimeoutDays) + 1)});
    }
    ++t.version;
    return appender.submit(std::move(req));
  };
  auto remove = [&](std::size_t index) {
    LiveToken t = std::move(live[index]);
    live[index] = std::move(live.back());
    live.pop_back();
    const bool revoked = rng() % 10 == 0;
    return appender.submit({t.id,
                            t.version,
                            {TokenDeleted{revoked ? kDeleteReasons[pick(rng, 2)] : ""}},
                            revoked ? admin_actor : Actor{owners[t.owner], Via::session, {}},
                            random_source(rng),
                            owners[t.owner],
                            {{SideStore::keys, t.id, std::nullopt}}});
  };

  std::uint64_t produced = user_events;
  // On a terminal the line redraws in place ('\r'); into a pipe or file each report is a line of its own.
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto report = [&](bool last) {
    if (!o.progress || (!last && produced % 100000 != 0)) return;
    const double s = seconds_since(started);
    std::fprintf(stderr, "%sgenerated %llu / %llu events (%.0f events/s)%s", tty ? "\r" : "",
                 static_cast<unsigned long long>(produced), static_cast<unsigned long long>(o.events),
                 static_cast<double>(produced) / s, last || !tty ? "\n" : "");
  };
  bool ok = true;
  for (std::uint64_t i = 0; ok && i < o.codes; ++i, ++produced) ok = create(0);
  while (ok && creates_left + deletes_left + others_left > 0) {
    const std::size_t deletable = live.size() - o.codes;
    std::uint64_t roll = pick(rng, creates_left + deletes_left + others_left);
    if (roll < creates_left || live.empty()) {
      const auto owner = static_cast<std::uint32_t>(o.users == 0 ? 0 : 1 + pick(rng, o.users));
      ok = create(owner);
      creates_left -= creates_left > 0 ? 1 : 0;
    } else if (roll < creates_left + deletes_left && deletable > 0) {
      ok = remove(o.codes + pick(rng, deletable));
      --deletes_left;
    } else {
      ok = other(live[pick(rng, live.size())]);
      if (others_left > 0) {
        --others_left;
      } else {
        --deletes_left;  // no token could be deleted just now: this event stands in for it
      }
    }
    ++produced;
    report(false);
  }
  if (auto error = appender.drain(); !error.empty()) return Error::unavailable("append failed: " + error);
  report(true);

  if (o.checkpoint) {
    if (auto saved = model.save_checkpoint(); !saved) return std::move(saved).error();
  } else if (auto dropped = ReadModel::drop_saved_state(store); !dropped) {
    return std::move(dropped).error();  // the fold saves checkpoints as it goes, like the server's
  }
  // Always signed: the server's --verify-on-start tail then walks nothing, with or without a
  // projection checkpoint, so start-up times compare the projection loading alone.
  if (auto signed_head = (*signer)->sign_head(store); !signed_head) return std::move(signed_head).error();

  DatasetSummary summary;
  summary.events = store.head().seq;
  summary.live_tokens = model.tokens().size();
  summary.users = o.users + 1;
  const std::uint64_t per_user = o.users == 0 ? 0 : (live_target - o.codes + o.users - 1) / o.users;
  summary.max_tokens_per_user = std::max(o.codes, per_user * 2) + 1;
  store.close();
  summary.seconds = seconds_since(started);
  return summary;
}

}  // namespace tl::bench
