// The EventLog contract (eventstore/event_log.hpp), run against both logs: the embedded RocksDB
// one and the PostgreSQL one (issue 19), so that the server may stand on either. Compiled twice:
// into unit_tests for RocksDB (TL_CONTRACT_ROCKSDB, so that the sanitizer runs cover it too), and
// into pg_tests for PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <numeric>
#include <set>
#include <thread>

#include "eventstore/chain_link.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/pg_log.hpp"
#include "pg/log_support.hpp"
#include "unit/temp_dir.hpp"
#ifndef TL_CONTRACT_ROCKSDB
#include "pg/pg_instance.hpp"
#endif

namespace tl {
namespace {

enum class Backend { rocksdb, postgresql };

using testing::reveal;

class EventLogContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
#ifndef TL_CONTRACT_ROCKSDB
    if (GetParam() == Backend::postgresql) url_ = testing::PgInstance::get().new_database();
#endif
  }

  std::unique_ptr<EventLog> open(bool read_only = false) {
    if (GetParam() == Backend::postgresql) {
      auto log = open_pg_log({.url = url_, .read_only = read_only, .allow_async = true});
      EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().message);
      return log.ok() ? std::move(log).value() : nullptr;
    }
    auto store = EventStore::open(dir_.sub("db"), {.extra_column_families = {"state_a"}, .read_only = read_only});
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::unique_ptr<EventLog>(std::move(store).value()) : nullptr;
  }

  testing::TempDir dir_;
  std::string url_;
};

TEST_P(EventLogContract, AppendAndReadRoundTrip) {
  auto log = open();
  ASSERT_TRUE(log);
  auto r = log->append({"tok_1",
                        kNoStream,
                        {TokenCreated{"alice", "CI", 15, "l", "s"}, TokenRevealed{}},
                        {"alice", Via::session, {}},
                        {"127.0.0.1", "ua", "r1"},
                        "alice",
                        {}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->first_seq, 1u);
  EXPECT_EQ(r->last_seq, 2u);
  EXPECT_EQ(r->next_expected_version, 2u);
  auto first = log->read(1);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ((*first)->stream, "tok_1");
  EXPECT_EQ((*first)->owner, "alice");
  EXPECT_TRUE(std::holds_alternative<TokenCreated>((*first)->event));
  // The stored bytes are the record's own, whose hash checks.
  auto raw = log->read_raw(2);
  ASSERT_TRUE(raw.ok() && *raw);
  EXPECT_TRUE(check_record_bytes(**raw).record.has_value());
  EXPECT_FALSE(log->read(3).value().has_value());
  std::vector<std::uint64_t> versions;
  ASSERT_TRUE(log->read_stream("tok_1",
                               [&](const Record& rec) {
                                 versions.push_back(rec.version);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(versions, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(log->stream_version("tok_1"), 2u);
  EXPECT_EQ(log->stream_version("tok_2"), kNoStream);
  EXPECT_EQ(log->head().seq, 2u);
}

TEST_P(EventLogContract, ExpectedVersionMismatchIsAConflictAndAppendsNothing) {
  auto log = open();
  ASSERT_TRUE(log->append(reveal("s", kNoStream)).ok());
  auto stale = log->append(reveal("s", kNoStream));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::version_conflict);
  EXPECT_EQ(log->head().seq, 1u);
  EXPECT_TRUE(log->append(reveal("s", 1)).ok());
  EXPECT_TRUE(log->append(reveal("s", kAnyVersion)).ok());
  EXPECT_EQ(log->stream_version("s"), 3u);
  EXPECT_EQ(log->stats().conflicts, 1u);
}

TEST_P(EventLogContract, SideWritesLandWithTheEventsAndNotWithoutThem) {
  auto log = open();
  AppendRequest req = reveal("tok_1", kNoStream);
  req.side_writes = {{SideStore::keys, "tok_1", std::string("wrapped")}};
  ASSERT_TRUE(log->append(req).ok());
  EXPECT_EQ(*log->get_side(SideStore::keys, "tok_1").value(), "wrapped");
  EXPECT_TRUE(log->side_has(SideStore::keys, "tok_1").value());
  AppendRequest del = reveal("tok_1", 1);
  del.side_writes = {{SideStore::keys, "tok_1", std::nullopt}};
  ASSERT_TRUE(log->append(del).ok());
  EXPECT_FALSE(log->get_side(SideStore::keys, "tok_1").value());
  AppendRequest refused = reveal("tok_1", 99);
  refused.side_writes = {{SideStore::keys, "tok_1", std::string("again")}};
  EXPECT_FALSE(log->append(refused).ok());
  EXPECT_FALSE(log->get_side(SideStore::keys, "tok_1").value());
}

TEST_P(EventLogContract, AConditionOnAnotherStreamIsCheckedWithTheAppend) {
  auto log = open();
  ASSERT_TRUE(log->append(reveal("user:alice", kNoStream)).ok());
  AppendRequest create = reveal("tok_1", kNoStream);
  create.condition = StreamCondition{"user:alice", 1};
  ASSERT_TRUE(log->append(create).ok());
  ASSERT_TRUE(log->append(reveal("user:alice", 1)).ok());
  AppendRequest stale = reveal("tok_2", kNoStream);
  stale.condition = StreamCondition{"user:alice", 1};
  stale.side_writes = {{SideStore::keys, "tok_2", std::string("wrapped")}};
  auto refused = log->append(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::version_conflict);
  EXPECT_EQ(log->head().seq, 3u);
  EXPECT_EQ(log->stream_version("tok_2"), kNoStream);
  EXPECT_FALSE(log->get_side(SideStore::keys, "tok_2").value());
}

TEST_P(EventLogContract, AConditionSeesAnEarlierAppendOfTheSameBatch) {
  auto log = open();
  ASSERT_TRUE(log->append(reveal("user:alice", kNoStream)).ok());
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t version = log->stream_version("user:alice");
    std::promise<Result<AppendResult>> first, second;
    log->append_async(reveal("user:alice", version), [&](Result<AppendResult> r) { first.set_value(std::move(r)); });
    AppendRequest create = reveal("tok_" + std::to_string(round), kNoStream);
    create.condition = StreamCondition{"user:alice", version};
    log->append_async(std::move(create), [&](Result<AppendResult> r) { second.set_value(std::move(r)); });
    EXPECT_TRUE(first.get_future().get().ok());
    auto refused = second.get_future().get();
    ASSERT_FALSE(refused.ok()) << round;
    EXPECT_EQ(refused.error().code, ErrorCode::version_conflict);
  }
  EXPECT_EQ(log->head().seq, 11u);
}

TEST_P(EventLogContract, ReopenKeepsEverythingAndContinuesTheChain) {
  Head before;
  {
    auto log = open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append(reveal("s", kAnyVersion)).ok());
    before = log->head();
    log->close();
  }
  auto log = open();
  EXPECT_EQ(log->head().seq, before.seq);
  EXPECT_EQ(log->head().hash, before.hash);
  ASSERT_TRUE(log->head_marker().has_value());
  EXPECT_EQ(log->head_marker()->seq, before.seq);
  EXPECT_EQ(log->stream_version("s"), 5u);
  ASSERT_TRUE(log->append(reveal("s", 5)).ok());
  EXPECT_EQ(log->read(6).value()->prev_hash, before.hash);
  const VerifyReport report = log->verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, 6u);
  EXPECT_EQ(report.head.hash, log->head().hash);
}

TEST_P(EventLogContract, ConcurrentAppendersLandExactlyOnceWithGapFreeSeqAndTimeNeverRunsBack) {
  auto log = open();
  constexpr int kThreads = 8, kPerThread = 20;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log->append(reveal("own" + std::to_string(t), static_cast<std::uint64_t>(i))).ok()) ADD_FAILURE();
        auto shared = log->append(reveal("shared", log->stream_version("shared")));
        if (!shared.ok()) {
          EXPECT_EQ(shared.error().code, ErrorCode::version_conflict);
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t shared_landed = log->stream_version("shared");
  EXPECT_EQ(shared_landed + static_cast<std::uint64_t>(conflicts.load()), std::uint64_t{kThreads * kPerThread});
  EXPECT_EQ(log->head().seq, std::uint64_t{kThreads * kPerThread} + shared_landed);
  std::uint64_t expected = 1;
  Timestamp last{};
  std::set<std::pair<std::string, std::uint64_t>> positions;
  ASSERT_TRUE(log->read_range(1, UINT64_MAX,
                              [&](const Record& r) {
                                EXPECT_EQ(r.seq, expected++);
                                EXPECT_GE(r.at, last);
                                last = r.at;
                                EXPECT_TRUE(positions.emplace(r.stream, r.version).second)
                                    << r.stream << "@" << r.version;
                                return true;
                              })
                  .ok());
  EXPECT_EQ(expected, log->head().seq + 1);
  EXPECT_TRUE(log->verify().ok);
}

// An index writer's entries land with the records; subscribers see every batch, in order,
// before its waiter is answered.
class SeqIndex final : public IndexWriter {
 public:
  void index(const Record& record, IndexBatch& batch) override {
    batch.put("state_a", "i/" + encode_be64(record.seq), record.stream);
  }
};

TEST_P(EventLogContract, IndexEntriesLandWithTheRecordsAndSubscribersSeeEveryBatchFirst) {
  auto log = open();
  SeqIndex index;
  testing::SeqsTold told;
  log->add_index_writer(&index);
  log->subscribe(&told);
  for (int i = 0; i < 30; ++i) {
    auto r = log->append(reveal("s" + std::to_string(i % 4), kAnyVersion));
    ASSERT_TRUE(r.ok());
    const auto seen = told.copy();
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), r->last_seq);  // told before the waiter
  }
  for (std::uint64_t seq = 1; seq <= 30; ++seq) {
    auto value = log->state().get("state_a", "i/" + encode_be64(seq));
    ASSERT_TRUE(value.ok() && *value) << seq;
    EXPECT_EQ(**value, "s" + std::to_string((seq - 1) % 4));
  }
  std::vector<std::uint64_t> expected(30);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(told.copy(), expected);
  auto last = log->state().last_key_with_prefix("state_a", "i/");
  ASSERT_TRUE(last.ok() && *last);
  EXPECT_EQ(**last, "i/" + encode_be64(30));
}

TEST_P(EventLogContract, StateFamiliesScanInByteOrderWithinPrefixesAndBounds) {
  auto log = open();
  StateStore& state = log->state();
  auto batch = state.new_batch();
  const std::vector<std::string> keys = {std::string("a\0", 2), "a\x01", "a\x7f", "a\x80", "a\xff",
                                         "a\xff\xff",           "b",     "ab",    "a"};
  for (const std::string& k : keys) batch->put("state_a", k, "v" + k);
  batch->erase("state_a", "ab");
  ASSERT_TRUE(state.write(*batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(state
                  .scan("state_a", {.prefix = "a"},
                        [&](std::string_view k, std::string_view v) {
                          EXPECT_EQ(v, "v" + std::string(k));
                          seen.emplace_back(k);
                          return true;
                        })
                  .ok());
  const std::vector<std::string> in_order = {"a",        std::string("a\0", 2), "a\x01", "a\x7f", "a\x80", "a\xff",
                                             "a\xff\xff"};
  EXPECT_EQ(seen, in_order);
  seen.clear();
  ASSERT_TRUE(state
                  .scan("state_a", {.prefix = "a", .from = "a\x7f"},
                        [&](std::string_view k, std::string_view) {
                          seen.emplace_back(k);
                          return seen.size() < 2;
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a\x7f", "a\x80"}));
  EXPECT_EQ(state.last_key_with_prefix("state_a", "a").value(), std::optional<std::string>("a\xff\xff"));
  auto at_or_before = state.last_entry_at_or_before("state_a", "a", "a\x7f\x05");
  ASSERT_TRUE(at_or_before.ok() && *at_or_before);
  EXPECT_EQ((*at_or_before)->key, "a\x7f");
  EXPECT_FALSE(state.last_entry_at_or_before("state_a", "b", "a\xff").value().has_value());
  ASSERT_TRUE(state.erase_range("state_a", "a\x01", "a\xff").ok());
  EXPECT_FALSE(state.has("state_a", "a\x80").value());
  EXPECT_TRUE(state.has("state_a", "a\xff").value());
  EXPECT_TRUE(state.has("state_a", std::string("a\0", 2)).value());
}

// A write-back of a row another writer may have deleted (a shared session a sign-out ended) does
// not bring the row back.
TEST_P(EventLogContract, ReplaceExistingWritesOnlyAKeyThatStillExists) {
  auto log = open();
  StateStore& state = log->state();
  auto batch = state.new_batch();
  batch->put("state_a", "session", "v1");
  ASSERT_TRUE(state.write(*batch).ok());
  EXPECT_TRUE(state.replace_existing("state_a", "session", "v2").value());
  EXPECT_EQ(state.get("state_a", "session").value(), std::optional<std::string>("v2"));
  batch->clear();
  batch->erase("state_a", "session");
  ASSERT_TRUE(state.write(*batch).ok());
  EXPECT_FALSE(state.replace_existing("state_a", "session", "v3").value());
  EXPECT_FALSE(state.has("state_a", "session").value()) << "a deleted row was brought back";
  EXPECT_FALSE(state.replace_existing("state_a", "never", "v").value());
  EXPECT_FALSE(state.has("state_a", "never").value());
}

TEST_P(EventLogContract, SideStoresScanAndPutOutsideTheLog) {
  auto log = open();
  ASSERT_TRUE(log->put_side(SideStore::meta, "checkpoint/2", "b").ok());
  ASSERT_TRUE(log->put_side(SideStore::meta, "checkpoint/1", "a").ok());
  ASSERT_TRUE(log->put_side(SideStore::meta, "other", "x").ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(log->scan_side(
                     SideStore::meta,
                     [&](std::string_view k, std::string_view v) {
                       seen.push_back(std::string(k) + "=" + std::string(v));
                       return true;
                     },
                     "checkpoint/")
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"checkpoint/1=a", "checkpoint/2=b"}));
  EXPECT_EQ(log->last_key_with_prefix(SideStore::meta, "checkpoint/").value(),
            std::optional<std::string>("checkpoint/2"));
  // Side stores are apart from each other.
  EXPECT_FALSE(log->get_side(SideStore::keys, "other").value().has_value());
}

TEST_P(EventLogContract, ReadsBySeqsAndTheStreamIndexAsStored) {
  auto log = open();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(log->append(reveal("s" + std::to_string(i % 3), kAnyVersion)).ok());
  const std::vector<std::uint64_t> wanted = {2, 5, 11};
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(log->read_seqs(wanted,
                             [&](const Record& r) {
                               got.push_back(r.seq);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(got, wanted);
  const std::vector<std::uint64_t> missing = {3, 40};
  EXPECT_FALSE(log->read_seqs(missing, [](const Record&) { return true; }).ok());
  std::vector<std::string> index;
  ASSERT_TRUE(log->scan_stream_index([&](std::string_view key, std::string_view seq) {
                   index.push_back(std::string(key) + std::to_string(decode_be64(seq)));
                   return true;
                 })
                  .ok());
  ASSERT_EQ(index.size(), 12u);
  EXPECT_EQ(index.front(), stream_index_key("s0", 1) + "1");
  EXPECT_EQ(index.back(), stream_index_key("s2", 4) + "12");
  std::uint64_t folded = 0;
  ASSERT_TRUE(log->read_range_parallel(
                     3, UINT64_MAX,
                     [&](const Record& r) {
                       EXPECT_EQ(r.seq, folded + 3);
                       ++folded;
                       return true;
                     },
                     RecordFields::fold, 2)
                  .ok());
  EXPECT_EQ(folded, 10u);
}

TEST_P(EventLogContract, RefusedWritesAndAReadOnlyOpenAppendNothingButReadOn) {
  {
    auto log = open();
    ASSERT_TRUE(log->append(reveal("s", kNoStream)).ok());
    log->refuse_writes("damage found at seq 1");
    EXPECT_EQ(log->writes_refused(), "damage found at seq 1");
    auto refused = log->append(reveal("s", 1));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
    EXPECT_EQ(log->head().seq, 1u);
    log->close();
  }
  auto ro = open(/*read_only=*/true);
  ASSERT_TRUE(ro);
  EXPECT_TRUE(ro->read_only());
  EXPECT_EQ(ro->head().seq, 1u);
  EXPECT_EQ(ro->append(reveal("s", 1)).error().code, ErrorCode::unavailable);
  EXPECT_FALSE(ro->put_side(SideStore::meta, "k", "v").ok());
  EXPECT_TRUE(ro->read(1).value().has_value());
  EXPECT_TRUE(ro->verify().ok);
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& p) {
  return p.param == Backend::rocksdb ? "RocksDB" : "PostgreSQL";
}

#ifdef TL_CONTRACT_ROCKSDB
INSTANTIATE_TEST_SUITE_P(Logs, EventLogContract, ::testing::Values(Backend::rocksdb), backend_name);
#else
INSTANTIATE_TEST_SUITE_P(Logs, EventLogContract, ::testing::Values(Backend::postgresql), backend_name);
#endif

}  // namespace
}  // namespace tl
