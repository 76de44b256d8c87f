// Memory of the token projection (issue 5, row 6) and the speed of loading its checkpoint rows
// (row 5). Mostly a measurement: it folds N live tokens into a TokenTable the way start-up and
// rebuild do (TokenTable::apply with the Records the codec yields) and reports how much resident
// memory the table added, per token.
//
//   bench_memory [--tokens N | --tiny] [Google Benchmark flags]
//
// Counters: bytes_per_token / resident_mib = growth of the resident set (/proc/self/statm) after
// malloc_trim, so it is what the OS really holds for the table; heap_bytes_per_token = bytes
// malloc has handed out (mallinfo2), which excludes allocator slack.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "eventstore/passwords.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/token_table.hpp"

namespace {

using tl::Record;
using tl::Timestamp;

std::size_t g_tokens = 1'000'000;

// One token of the data set, kept compact so the data set itself hardly moves the figures.
struct TokenSpec {
  std::array<char, 30> id{};      // "tok_" + ULID, as TokenService makes it
  std::array<char, 64> lookup{};  // hex HMAC-SHA-256 of a real code, as TokenSecrets makes it
  std::uint32_t owner = 0;        // among 1000 users
  std::uint16_t description = 0;  // index into the description pool (20-40 characters)
  std::uint16_t timeout_days = 0;
  std::uint16_t ip = 0;    // index into the address pool
  std::uint8_t usage = 0;  // 0: never used, 1: used, 2: used and edited
};

struct DataSet {
  std::vector<TokenSpec> tokens;
  std::vector<std::string> owners;
  std::vector<std::string> descriptions;
  std::vector<std::string> ips;
  std::string sealed;  // a sealed code's length of hex; apply drops it, but records carry it
  Timestamp start{};
};

const DataSet& data_set() {
  static const DataSet set = [] {
    DataSet d;
    std::mt19937_64 rng(42);
    for (int i = 0; i < 1000; ++i) d.owners.push_back("analyst." + std::to_string(100000 + i * 7919 % 900000));
    static constexpr const char* kWords[] = {"CI",      "pipeline", "prod",    "staging", "feed",    "sync",
                                             "MISP",    "export",   "nightly", "scanner", "ingest",  "alerts",
                                             "SOC",     "triage",   "backup",  "Splunk",  "TAXII",   "enrichment",
                                             "gateway", "reports",  "(eu)",    "(us)",    "webhook", "crawler"};
    std::uniform_int_distribution<std::size_t> word(0, std::size(kWords) - 1);
    for (int i = 0; i < 4096; ++i) {
      const std::size_t target = 20 + static_cast<std::size_t>(rng() % 21);
      std::string text;
      while (text.size() < target) text += std::string(text.empty() ? "" : " ") + kWords[word(rng)];
      text.resize(target);
      if (text.back() == ' ') text.back() = 'x';
      d.descriptions.push_back(std::move(text));
    }
    for (int i = 0; i < 4096; ++i) {
      if (i % 8 == 0) {
        d.ips.push_back("2001:db8:" + std::to_string(rng() % 10000) + "::" + std::to_string(rng() % 10000));
      } else {
        d.ips.push_back("10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                        std::to_string(rng() % 256));
      }
    }
    d.sealed.assign(2 * (24 + tl::kCodeLength + 16), 'a');
    std::array<unsigned char, 32> key{};
    key.fill(7);
    tl::TokenSecrets secrets(key);
    d.tokens.resize(g_tokens + g_tokens / 20);  // 5% more, deleted again: the table sees churn
    for (auto& t : d.tokens) {
      const std::string id = tl::new_ulid("tok_");
      const std::string lookup = secrets.lookup_hash(secrets.generate_code());
      std::memcpy(t.id.data(), id.data(), t.id.size());
      std::memcpy(t.lookup.data(), lookup.data(), t.lookup.size());
      t.owner = static_cast<std::uint32_t>(rng() % d.owners.size());
      t.description = static_cast<std::uint16_t>(rng() % d.descriptions.size());
      t.timeout_days = static_cast<std::uint16_t>(1 + rng() % 365);
      t.ip = static_cast<std::uint16_t>(rng() % d.ips.size());
      t.usage = static_cast<std::uint8_t>(rng() % 10 < 4 ? 0 : (rng() % 10 < 8 ? 1 : 2));
    }
    d.start = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
              std::chrono::days{30};
    return d;
  }();
  return set;
}

std::string id_of(const TokenSpec& t) { return {t.id.data(), t.id.size()}; }

Record token_record(const DataSet& d, const TokenSpec& t, std::uint64_t seq, std::uint64_t version, tl::Event event) {
  Record r;
  r.seq = seq;
  r.at = d.start + std::chrono::milliseconds{seq * 50};
  r.stream = id_of(t);
  r.version = version;
  r.actor = {d.owners[t.owner], tl::Via::session, {}};
  r.source = {d.ips[t.ip], "Mozilla/5.0 (X11; Linux x86_64)", "req-" + std::to_string(seq)};
  r.token_id = r.stream;
  r.owner = d.owners[t.owner];
  r.event = std::move(event);
  return r;
}

// Folds the whole history of the data set, as rebuild and the start-up tail do. Returns the
// number of records applied.
std::uint64_t fold_data_set(const DataSet& d, tl::TokenTable& table) {
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < d.tokens.size(); ++i) {
    const TokenSpec& t = d.tokens[i];
    table.apply(token_record(d, t, ++seq, 1,
                             tl::TokenCreated{d.owners[t.owner], d.descriptions[t.description], t.timeout_days,
                                              std::string(t.lookup.data(), t.lookup.size()), d.sealed}));
    if (i >= g_tokens) table.apply(token_record(d, t, ++seq, 2, tl::TokenDeleted{}));
  }
  for (std::size_t i = 0; i < g_tokens; ++i) {
    const TokenSpec& t = d.tokens[i];
    if (t.usage == 0) continue;
    table.apply(token_record(d, t, ++seq, 2, tl::TokenUsed{d.start + std::chrono::hours{i % 600}, d.ips[t.ip]}));
    if (t.usage == 2) {
      table.apply(token_record(
          d, t, ++seq, 3, tl::TokenDescriptionChanged{d.descriptions[(t.description + 1) % d.descriptions.size()]}));
    }
  }
  return seq;
}

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::size_t heap_bytes() {
  const auto info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

constexpr double kMiB = 1024.0 * 1024.0;

void BM_TokenTableMemory(benchmark::State& state) {
  const DataSet& d = data_set();
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);
    const std::size_t rss_before = resident_bytes();
    const std::size_t heap_before = heap_bytes();
    state.ResumeTiming();
    auto table = std::make_unique<tl::TokenTable>();
    const std::uint64_t events = fold_data_set(d, *table);
    state.PauseTiming();
    malloc_trim(0);
    const std::size_t rss_after = resident_bytes();
    const std::size_t heap_after = heap_bytes();
    if (table->size() != g_tokens) state.SkipWithError("the table does not hold every live token");
    const double tokens = static_cast<double>(table->size());
    state.counters["tokens"] = tokens;
    state.counters["bytes_per_token"] = static_cast<double>(rss_after - rss_before) / tokens;
    state.counters["heap_bytes_per_token"] = static_cast<double>(heap_after - heap_before) / tokens;
    state.counters["resident_mib"] = static_cast<double>(rss_after - rss_before) / kMiB;
    state.counters["process_mib"] = static_cast<double>(rss_after) / kMiB;
    state.counters["events"] = static_cast<double>(events);
    state.SetItemsProcessed(state.items_processed() + static_cast<std::int64_t>(events));
    table.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_TokenTableMemory)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The checkpoint rows of the folded data set, back to back, as ReadModel::load reads them.
struct Checkpoint {
  std::string bytes;
  std::vector<std::size_t> ends;
};

const Checkpoint& checkpoint() {
  static const Checkpoint cp = [] {
    Checkpoint c;
    tl::TokenTable table;
    fold_data_set(data_set(), table);
    table.take_changes(
        [&](const std::string&, const std::string& row) {
          c.bytes += row;
          c.ends.push_back(c.bytes.size());
        },
        [](const std::string&) {});
    return c;
  }();
  return cp;
}

template <typename Fn>
void for_each_row(const Checkpoint& c, Fn&& fn) {
  std::size_t begin = 0;
  for (std::size_t end : c.ends) {
    fn(std::string_view(c.bytes).substr(begin, end - begin));
    begin = end;
  }
}

// Decoding alone: the part of start-up that the row format decides.
void BM_CheckpointDecode(benchmark::State& state) {
  const Checkpoint& c = checkpoint();
  for (auto _ : state) {
    std::size_t ok = 0;
    for_each_row(c, [&](std::string_view bytes) { ok += tl::TokenTable::decode(bytes).has_value(); });
    if (ok != c.ends.size()) state.SkipWithError("a checkpoint row did not decode");
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.ends.size()));
  state.counters["rows"] = static_cast<double>(c.ends.size());
  state.counters["bytes_per_row"] = static_cast<double>(c.bytes.size()) / static_cast<double>(c.ends.size());
}
BENCHMARK(BM_CheckpointDecode)->Unit(benchmark::kMillisecond)->UseRealTime();

// Decoding and loading into a fresh table through TokenRow: decode + load_row per row.
void BM_CheckpointLoad(benchmark::State& state) {
  const Checkpoint& c = checkpoint();
  for (auto _ : state) {
    tl::TokenTable table;
    for_each_row(c, [&](std::string_view bytes) { table.load_row(*tl::TokenTable::decode(bytes)); });
    if (table.size() != c.ends.size()) state.SkipWithError("rows lost on load");
    state.PauseTiming();
    table.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.ends.size()));
}
BENCHMARK(BM_CheckpointLoad)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same straight from the bytes into the table's packed rows (TokenTable::load_encoded).
void BM_CheckpointLoadEncoded(benchmark::State& state) {
  const Checkpoint& c = checkpoint();
  for (auto _ : state) {
    tl::TokenTable table;
    std::size_t ok = 0;
    for_each_row(c, [&](std::string_view bytes) { ok += table.load_encoded(bytes); });
    if (ok != c.ends.size() || table.size() != c.ends.size()) state.SkipWithError("rows lost on load");
    state.PauseTiming();
    table.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.ends.size()));
}
BENCHMARK(BM_CheckpointLoadEncoded)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  // Our own flags first; the rest goes to Google Benchmark.
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tiny") {
      g_tokens = 10'000;
    } else if (arg == "--tokens" && i + 1 < argc) {
      g_tokens = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg.starts_with("--tokens=")) {
      g_tokens = std::strtoull(arg.c_str() + 9, nullptr, 10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (g_tokens == 0) g_tokens = 1;
  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
