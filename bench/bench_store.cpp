// bench_store: the in-process figures of issue 5.
//   BM_DurableAppend/threads:32  row 1: 32 threads, each append one synced event to its own stream
//   BM_RawScan                   row 4's yardstick: a bare iteration of the events column family
//   BM_Fold                      row 4: the token and user tables folded from seq 1
//   BM_AuditQueryByToken/Actor   row 7: one page of 100 events; p50_ms and p99_ms counters
//   BM_InclusionProof            row 12: RFC 9162 inclusion proof of a random event in the whole
//   BM_ConsistencyProof                  tree / consistency proof from a random size to the whole;
//                                        p50_ms and p99_ms counters (the tree folded first)
//
// Own flags come first: --data DIR (a tokenledger-bench-gen directory, for rows 4 and 7),
// --log URL (BM_DurableAppend on a PostgreSQL log instead: bench/cluster.sh, issue 19) and
// --tiny (CI: generate a small data set in a temporary directory and run everything briefly).
//
// items_per_second is set by hand from wall-clock time: Google Benchmark's own rate divides by
// CPU time unless real time is asked for, and asking for it would rename the benchmarks
// ("/real_time"). The append store is fresh, synced, in a temporary directory beside --data (the
// same file system), and holds the ReadModel as the server does (audit index and fold).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>

#include "bench/dataset.hpp"
#include "bench/timing.hpp"
#include "domain/token.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/passwords.hpp"
#include "eventstore/pg_log.hpp"
#include "eventstore/raw_events.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/merkle_index.hpp"
#include "projections/read_model.hpp"

namespace fs = std::filesystem;
using tl::bench::Clock;
using tl::bench::seconds_since;

namespace {

struct Flags {
  std::string data;
  std::string log;  // a PostgreSQL URL: row 1's appends go there
  bool tiny = false;
} g_flags;
std::vector<fs::path> g_temp_dirs;
bool g_data_set_opened = false;
bool g_append_rig_opened = false;

fs::path make_temp_dir(const fs::path& parent, const std::string& name) {
  std::string pattern = (parent / (name + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory in " + parent.string());
  g_temp_dirs.emplace_back(pattern);
  return pattern;
}

// ---- rows 4 and 7: the generated data set, opened once, read-only --------------------------

struct DataSet {
  std::unique_ptr<tl::EventStore> store;
  std::unique_ptr<tl::ReadModel> model;
  std::vector<std::string> tokens;
  std::vector<std::string> actors;
  std::string error;
};

DataSet& data_set() {
  static DataSet d = [] {
    g_data_set_opened = true;
    DataSet set;
    if (g_flags.data.empty()) {
      set.error = "give --data DIR (a tokenledger-bench-gen directory) or --tiny";
      return set;
    }
    auto store = tl::EventStore::open(tl::bench::db_path(g_flags.data),
                                      {.extra_column_families = tl::ReadModel::column_families(), .read_only = true});
    if (!store) {
      set.error = store.error().message;
      return set;
    }
    set.store = std::move(store).value();
    set.model = std::make_unique<tl::ReadModel>(*set.store);
    if (auto loaded = set.model->load(); !loaded) {
      set.error = loaded.error().message;
      return set;
    }
    for (const auto& row : set.model->tokens().all()) set.tokens.push_back(row.state.id);
    for (const auto& user : set.model->users().list()) set.actors.push_back(user.username);
    if (set.tokens.empty() || set.actors.empty()) set.error = "the data set holds no tokens or users";
    return set;
  }();
  return d;
}

DataSet* data_set_or_skip(benchmark::State& state) {
  DataSet& d = data_set();
  if (!d.error.empty()) {
    state.SkipWithError(d.error.c_str());
    return nullptr;
  }
  return &d;
}

// Every record of the events column family, key and value touched, read raw (without decoding,
// with the read options of EventStore::read_range) beside the open store; the number of records.
std::uint64_t raw_scan(const tl::RawEvents& events, std::string& error) {
  std::uint64_t n = 0, touched = 0;
  auto scanned = events.scan([&](std::uint64_t seq, std::string_view value) {
    touched +=
        seq + value.size() + static_cast<unsigned char>(value[0]) + static_cast<unsigned char>(value[value.size() - 1]);
    ++n;
    return true;
  });
  benchmark::DoNotOptimize(touched);
  if (!scanned) error = scanned.error().message;
  return n;
}

void BM_RawScan(benchmark::State& state) {
  DataSet* d = data_set_or_skip(state);
  if (d == nullptr) return;
  // A second read-only instance beside the data set's store: the scan reads the same files.
  auto events = tl::RawEvents::open(tl::bench::db_path(g_flags.data), /*writable=*/false);
  if (!events) {
    state.SkipWithError(events.error().message.c_str());
    return;
  }
  tl::bench::LoopTimer timer;
  for (auto _ : state) {
    timer.start();
    std::string error;
    const std::uint64_t scanned = raw_scan(**events, error);
    timer.stop(scanned);
    if (!error.empty()) state.SkipWithError(error.c_str());
  }
  timer.report(state);
  state.counters["events"] = static_cast<double>(timer.items() / std::max<std::uint64_t>(state.iterations(), 1));
}

void BM_Fold(benchmark::State& state) {
  DataSet* d = data_set_or_skip(state);
  if (d == nullptr) return;
  // CPU of all threads (the fold decodes on workers): what the fold costs, whatever the load.
  tl::bench::LoopTimer timer;
  for (auto _ : state) {
    timer.start();
    if (auto folded = d->model->refold_tables(); !folded) {
      state.SkipWithError(folded.error().message.c_str());
      break;
    }
    timer.stop(d->model->folded_seq());
  }
  timer.report(state);
  state.counters["live_tokens"] = static_cast<double>(d->model->tokens().size());
}

// p50_ms and p99_ms of the latencies `ms` (sorted here); false when there are none.
bool latency_counters(benchmark::State& state, std::vector<double>& ms) {
  if (ms.empty()) return false;
  std::sort(ms.begin(), ms.end());
  auto quantile = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  state.counters["p50_ms"] = quantile(0.50);
  state.counters["p99_ms"] = quantile(0.99);
  return true;
}

void audit_query(benchmark::State& state, bool by_token) {
  DataSet* d = data_set_or_skip(state);
  if (d == nullptr) return;
  static std::atomic<std::uint64_t> seed{1};
  std::mt19937_64 rng(seed++);
  const auto& pool = by_token ? d->tokens : d->actors;
  std::vector<double> ms;
  std::uint64_t events = 0;
  const auto started = Clock::now();
  for (auto _ : state) {
    tl::AuditFilter filter;
    (by_token ? filter.token_id : filter.actor) = pool[rng() % pool.size()];
    const auto t0 = Clock::now();
    auto page = d->model->audit().query(filter, tl::kDefaultAuditLimit);
    ms.push_back(seconds_since(t0) * 1000.0);
    if (!page) {
      state.SkipWithError(page.error().message.c_str());
      break;
    }
    events += page->events.size();
  }
  const double seconds = seconds_since(started);
  if (!latency_counters(state, ms)) return;
  state.counters["events_per_page"] = static_cast<double>(events) / static_cast<double>(ms.size());
  state.counters["items_per_second"] = static_cast<double>(ms.size()) / seconds;
}

void BM_AuditQueryByToken(benchmark::State& state) { audit_query(state, true); }
void BM_AuditQueryByActor(benchmark::State& state) { audit_query(state, false); }

// ---- row 12: proofs over the data set's Merkle tree ------------------------------------------

struct ProofRig {
  std::unique_ptr<tl::MerkleIndex> merkle;
  double load_seconds = 0;
  std::string error;
};

// The tree as the server loads it: the saved chunks and the events after them.
ProofRig& proof_rig() {
  static ProofRig rig = [] {
    ProofRig r;
    DataSet& d = data_set();
    if (!d.error.empty()) {
      r.error = d.error;
      return r;
    }
    r.merkle = std::make_unique<tl::MerkleIndex>(*d.store);
    const auto t0 = Clock::now();
    if (auto loaded = r.merkle->load(); !loaded) r.error = loaded.error().message;
    r.load_seconds = seconds_since(t0);
    return r;
  }();
  return rig;
}

void proof_latency(benchmark::State& state, bool inclusion) {
  ProofRig& rig = proof_rig();
  if (!rig.error.empty()) {
    state.SkipWithError(rig.error.c_str());
    return;
  }
  const std::uint64_t size = rig.merkle->size();
  std::mt19937_64 rng(12);
  std::vector<double> ms;
  std::uint64_t hashes = 0;
  const auto started = Clock::now();
  for (auto _ : state) {
    const std::uint64_t at = 1 + rng() % size;
    const auto t0 = Clock::now();
    auto path = [&]() -> tl::Result<std::size_t> {
      if (inclusion) {
        auto p = rig.merkle->inclusion(at, size);
        if (!p) return std::move(p).error();
        return p->path.size();
      }
      auto p = rig.merkle->consistency(at, size);
      if (!p) return std::move(p).error();
      return p->path.size();
    }();
    ms.push_back(seconds_since(t0) * 1000.0);
    if (!path) {
      state.SkipWithError(path.error().message.c_str());
      break;
    }
    hashes += *path;
  }
  const double seconds = seconds_since(started);
  if (!latency_counters(state, ms)) return;
  state.counters["tree_size"] = static_cast<double>(size);
  state.counters["path_hashes"] = static_cast<double>(hashes) / static_cast<double>(ms.size());
  state.counters["load_seconds"] = rig.load_seconds;
  state.counters["items_per_second"] = static_cast<double>(ms.size()) / seconds;
}

void BM_InclusionProof(benchmark::State& state) { proof_latency(state, true); }
void BM_ConsistencyProof(benchmark::State& state) { proof_latency(state, false); }

// ---- row 1: durable appends from 32 threads ---------------------------------------------

struct AppendRig {
  std::unique_ptr<tl::EventLog> store;
  std::unique_ptr<tl::ReadModel> model;
  std::unique_ptr<tl::TokenSecrets> secrets;
  struct Stream {
    std::string id;
    std::uint64_t version = 0;
  };
  std::array<Stream, 256> streams;
  std::string error;
};

AppendRig& append_rig() {
  static AppendRig rig = [] {
    g_append_rig_opened = true;
    AppendRig r;
    const fs::path parent = !g_flags.data.empty()  ? fs::absolute(g_flags.data).parent_path()
                            : !g_temp_dirs.empty() ? g_temp_dirs.front()
                                                   : fs::temp_directory_path();
    if (!g_flags.log.empty()) {
      auto log = tl::open_pg_log({.url = g_flags.log});
      if (!log) {
        r.error = log.error().message;
        return r;
      }
      r.store = std::move(log).value();
    } else {
      auto store = tl::EventStore::open((make_temp_dir(parent, "bench-append") / "db").string(),
                                        {.extra_column_families = tl::ReadModel::column_families(), .sync = true});
      if (!store) {
        r.error = store.error().message;
        return r;
      }
      r.store = std::move(store).value();
    }
    r.model = std::make_unique<tl::ReadModel>(*r.store);
    std::array<unsigned char, 32> key{};
    std::random_device random;
    for (auto& b : key) b = static_cast<unsigned char>(random());
    r.secrets = std::make_unique<tl::TokenSecrets>(key);
    return r;
  }();
  return rig;
}

// The thread's token, created once (outside the timed loop), as the server creates one.
tl::Status ensure_stream(AppendRig& rig, AppendRig::Stream& stream, const std::string& owner, std::mt19937_64& rng) {
  if (!stream.id.empty()) return {};
  const std::string id = tl::new_ulid("tok_");
  const std::string code = rig.secrets->generate_code();
  auto sealed = rig.secrets->seal(id, code);
  auto created = tl::decide_create(
      {owner, "CI pipeline (prod)", 30, rig.secrets->lookup_hash(code), sealed.code_sealed}, 0, SIZE_MAX);
  if (!created) return std::move(created).error();
  auto appended = rig.store->append({id,
                                     tl::kNoStream,
                                     {std::move(created).value()},
                                     {owner, tl::Via::session, {}},
                                     tl::bench::random_source(rng),
                                     owner,
                                     {{tl::SideStore::keys, id, sealed.wrapped_data_key}}});
  if (!appended) return std::move(appended).error();
  stream = {id, appended->next_expected_version};
  return {};
}

void BM_DurableAppend(benchmark::State& state) {
  AppendRig& rig = append_rig();
  if (!rig.error.empty()) {
    state.SkipWithError(rig.error.c_str());
    return;
  }
  const auto index = static_cast<std::size_t>(state.thread_index());
  std::mt19937_64 rng(index * 7919 + 1);
  const std::string owner = "user-" + std::to_string(index % 8);
  auto& stream = rig.streams[index % rig.streams.size()];
  if (auto ready = ensure_stream(rig, stream, owner, rng); !ready) {
    state.SkipWithError(ready.error().message.c_str());
    return;
  }
  const auto before = rig.store->stats();
  Clock::time_point started{};
  bool first = true;
  for (auto _ : state) {
    if (first) started = Clock::now(), first = false;
    // A reveal as the server appends it: the expected version, the owner, the request's origin.
    auto appended = rig.store->append({stream.id,
                                       stream.version,
                                       {tl::TokenRevealed{}},
                                       {owner, tl::Via::session, {}},
                                       tl::bench::random_source(rng),
                                       owner,
                                       {}});
    if (!appended) {
      state.SkipWithError(appended.error().message.c_str());
      break;
    }
    stream.version = appended->next_expected_version;
  }
  // The loop's end waits for every thread, so thread 0 times the whole run; counters are summed
  // over threads, so only thread 0 sets them.
  if (index == 0) {
    const double seconds = seconds_since(started);
    const auto after = rig.store->stats();
    const double appends = static_cast<double>(state.iterations()) * state.threads();
    state.counters["items_per_second"] = appends / seconds;
    const auto batches = after.batches - before.batches;
    if (batches > 0)
      state.counters["events_per_batch"] =
          static_cast<double>(after.events - before.events) / static_cast<double>(batches);
    if (batches > 0)
      state.counters["sync_ms"] = (after.write_seconds - before.write_seconds) * 1000.0 / static_cast<double>(batches);
  }
}

}  // namespace

BENCHMARK(BM_DurableAppend)->Threads(32);
BENCHMARK(BM_RawScan)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AuditQueryByToken)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AuditQueryByActor)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InclusionProof)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConsistencyProof)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--tiny") {
      g_flags.tiny = true;
    } else if (arg == "--data" && i + 1 < argc) {
      g_flags.data = argv[++i];
    } else if (arg.starts_with("--data=")) {
      g_flags.data = std::string(arg.substr(7));
    } else if (arg == "--log" && i + 1 < argc) {
      g_flags.log = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  static char tiny_min_time[] = "--benchmark_min_time=0.01";
  int status = 0;
  try {
    if (g_flags.tiny) {
      // Given first, so that flags on the command line still win.
      args.insert(args.begin() + 1, tiny_min_time);
      const fs::path root = make_temp_dir(fs::temp_directory_path(), "bench-store-tiny");
      tl::bench::DatasetOptions o;
      o.dir = (root / "data").string();
      o.events = 3000, o.live_tokens = 300, o.users = 10, o.codes = 10;
      auto generated = tl::bench::generate_dataset(o);
      if (!generated) throw std::runtime_error("tiny data set: " + generated.error().message);
      g_flags.data = o.dir;
    }
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  } catch (const std::exception& e) {
    std::cerr << "bench_store: " << e.what() << "\n";
    status = 1;
  }
  // Close before removing the directories: the appender and RocksDB's threads must stop first.
  if (g_append_rig_opened && append_rig().store) append_rig().store->close();
  if (g_data_set_opened && data_set().store) data_set().store->close();
  for (const auto& dir : g_temp_dirs) fs::remove_all(dir);
  return status;
}
