#include "eventstore/event_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "eventstore/codec.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

std::unique_ptr<EventStore> open_store(const std::string& dir) {
  auto store = EventStore::open(dir, {});
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return std::move(store).value();
}

AppendRequest reveal(const std::string& stream, std::uint64_t expected) {
  return {stream, expected, {TokenRevealed{}}, {"alice", Via::session, {}}, {"127.0.0.1", "ua", "r1"}, "alice", {}};
}

TEST(EventStoreTest, AppendAndReadRoundTrip) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  auto r = store->append({"tok_1",
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
  auto first = store->read(1);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ((*first)->stream, "tok_1");
  EXPECT_EQ((*first)->version, 1u);
  EXPECT_EQ((*first)->owner, "alice");
  EXPECT_EQ((*first)->token_id, "tok_1");
  EXPECT_EQ((*first)->source.ip, "127.0.0.1");
  EXPECT_TRUE(std::holds_alternative<TokenCreated>((*first)->event));
  std::vector<std::uint64_t> versions;
  ASSERT_TRUE(store
                  ->read_stream("tok_1",
                                [&](const Record& rec) {
                                  versions.push_back(rec.version);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(versions, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(store->stream_version("tok_1"), 2u);
  EXPECT_EQ(store->stream_version("tok_2"), kNoStream);
  EXPECT_EQ(store->head().seq, 2u);
}

TEST(EventStoreTest, ExpectedVersionMismatchIsAConflictAndAppendsNothing) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store->append(reveal("s", kNoStream)).ok());
  auto stale = store->append(reveal("s", kNoStream));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::version_conflict);
  EXPECT_EQ(store->head().seq, 1u);
  EXPECT_TRUE(store->append(reveal("s", 1)).ok());
  EXPECT_TRUE(store->append(reveal("s", kAnyVersion)).ok());
  EXPECT_EQ(store->stream_version("s"), 3u);
}

TEST(EventStoreTest, SideWritesLandWithTheEvents) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  AppendRequest req = reveal("tok_1", kNoStream);
  req.side_writes = {{SideStore::keys, "tok_1", std::string("wrapped")}};
  ASSERT_TRUE(store->append(req).ok());
  EXPECT_EQ(*store->get_side(SideStore::keys, "tok_1").value(), "wrapped");
  AppendRequest del = reveal("tok_1", 1);
  del.side_writes = {{SideStore::keys, "tok_1", std::nullopt}};
  ASSERT_TRUE(store->append(del).ok());
  EXPECT_FALSE(store->get_side(SideStore::keys, "tok_1").value());
  // A refused append writes nothing, side writes included.
  AppendRequest refused = reveal("tok_1", 99);
  refused.side_writes = {{SideStore::keys, "tok_1", std::string("again")}};
  EXPECT_FALSE(store->append(refused).ok());
  EXPECT_FALSE(store->get_side(SideStore::keys, "tok_1").value());
}

TEST(EventStoreTest, AConditionOnAnotherStreamIsCheckedWithTheAppend) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store->append(reveal("user:alice", kNoStream)).ok());
  AppendRequest create = reveal("tok_1", kNoStream);
  create.condition = StreamCondition{"user:alice", 1};
  create.side_writes = {{SideStore::keys, "tok_1", std::string("wrapped")}};
  ASSERT_TRUE(store->append(create).ok());
  ASSERT_TRUE(store->append(reveal("user:alice", 1)).ok());  // the user changed meanwhile
  AppendRequest stale = reveal("tok_2", kNoStream);
  stale.condition = StreamCondition{"user:alice", 1};
  stale.side_writes = {{SideStore::keys, "tok_2", std::string("wrapped")}};
  auto refused = store->append(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::version_conflict);
  EXPECT_NE(refused.error().message.find("user:alice"), std::string::npos);
  // Nothing of it landed: no record, no stream, no side write.
  EXPECT_EQ(store->head().seq, 3u);
  EXPECT_EQ(store->stream_version("tok_2"), kNoStream);
  EXPECT_FALSE(store->get_side(SideStore::keys, "tok_2").value());
  // A condition on a stream that does not exist holds only for kNoStream.
  AppendRequest absent = reveal("tok_3", kNoStream);
  absent.condition = StreamCondition{"user:bob", kNoStream};
  EXPECT_TRUE(store->append(absent).ok());
}

TEST(EventStoreTest, AConditionSeesAnEarlierAppendOfTheSameBatch) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store->append(reveal("user:alice", kNoStream)).ok());
  // Queued back to back, so that they usually share a batch: the change queued first wins, and
  // the conditioned append must see it whether or not the two were written together.
  for (int round = 0; round < 20; ++round) {
    const std::uint64_t version = store->stream_version("user:alice");
    std::promise<Result<AppendResult>> first, second;
    store->append_async(reveal("user:alice", version), [&](Result<AppendResult> r) { first.set_value(std::move(r)); });
    AppendRequest create = reveal("tok_" + std::to_string(round), kNoStream);
    create.condition = StreamCondition{"user:alice", version};
    store->append_async(std::move(create), [&](Result<AppendResult> r) { second.set_value(std::move(r)); });
    EXPECT_TRUE(first.get_future().get().ok());
    auto refused = second.get_future().get();
    ASSERT_FALSE(refused.ok()) << round;
    EXPECT_EQ(refused.error().code, ErrorCode::version_conflict);
  }
  EXPECT_EQ(store->head().seq, 21u);
}

TEST(EventStoreTest, HashChainVerifies) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(reveal("s" + std::to_string(i % 3), kAnyVersion)).ok());
  const VerifyReport report = store->verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, 10u);
  EXPECT_EQ(report.head.seq, store->head().seq);
  EXPECT_EQ(report.head.hash, store->head().hash);
}

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(store_->append(reveal("s", kAnyVersion)).ok());
  }
  std::string raw(std::uint64_t seq) { return *store_->read_raw(seq).value(); }

  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(TamperTest, DetectsAChangedByte) {
  std::string bytes = raw(4);
  bytes[bytes.find("alice")] = 'm';
  ASSERT_TRUE(store_->raw_write("events", encode_be64(4), bytes).ok());
  const VerifyReport report = store_->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4u);
}

TEST_F(TamperTest, DetectsARecomputedHashThatBreaksTheChain) {
  auto rec = decode_record(raw(3)).value();
  rec.actor.user = "mallory";
  encode_record(rec);  // a forger recomputes this record's hash; the next one no longer links
  ASSERT_TRUE(store_->raw_write("events", encode_be64(3), rec.raw).ok());
  const VerifyReport report = store_->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4u);
}

TEST_F(TamperTest, DetectsARemovedRecord) {
  ASSERT_TRUE(store_->raw_write("events", encode_be64(2), std::nullopt).ok());
  const VerifyReport report = store_->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2u);
}

TEST_F(TamperTest, DetectsSwappedRecords) {
  const std::string a = raw(2), b = raw(3);
  ASSERT_TRUE(store_->raw_write("events", encode_be64(2), b).ok());
  ASSERT_TRUE(store_->raw_write("events", encode_be64(3), a).ok());
  const VerifyReport report = store_->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2u);
}

TEST(EventStoreTest, ReopenKeepsEverythingAndContinuesTheChain) {
  testing::TempDir dir;
  Head before;
  {
    auto store = open_store(dir.path());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(reveal("s", kAnyVersion)).ok());
    before = store->head();
  }
  auto store = open_store(dir.path());
  EXPECT_EQ(store->head().seq, before.seq);
  EXPECT_EQ(store->head().hash, before.hash);
  EXPECT_EQ(store->stream_version("s"), 5u);
  ASSERT_TRUE(store->append(reveal("s", 5)).ok());
  auto next = store->read(6).value();
  EXPECT_EQ(next->prev_hash, before.hash);
  EXPECT_TRUE(store->verify().ok);
}

TEST(EventStoreTest, TimeNeverRunsBackwardsAlongTheLog) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->append(reveal("s", kAnyVersion)).ok());
  Timestamp last{};
  ASSERT_TRUE(store
                  ->read_range(1, UINT64_MAX,
                               [&](const Record& r) {
                                 EXPECT_GE(r.at, last);
                                 last = r.at;
                                 return true;
                               })
                  .ok());
}

TEST(EventStoreTest, ConcurrentAppendersLandExactlyOnceWithGapFreeSeq) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  constexpr int kThreads = 16, kPerThread = 40;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Each thread its own stream, plus one shared stream everyone races for.
        if (!store->append(reveal("own" + std::to_string(t), static_cast<std::uint64_t>(i))).ok()) ADD_FAILURE();
        auto shared = store->append(reveal("shared", store->stream_version("shared")));
        if (!shared.ok()) {
          EXPECT_EQ(shared.error().code, ErrorCode::version_conflict);
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t shared_landed = store->stream_version("shared");
  EXPECT_EQ(shared_landed + static_cast<std::uint64_t>(conflicts.load()), std::uint64_t{kThreads * kPerThread});
  EXPECT_EQ(store->head().seq, std::uint64_t{kThreads * kPerThread} + shared_landed);
  std::uint64_t expected = 1;
  std::set<std::pair<std::string, std::uint64_t>> positions;
  ASSERT_TRUE(store
                  ->read_range(1, UINT64_MAX,
                               [&](const Record& r) {
                                 EXPECT_EQ(r.seq, expected++);
                                 EXPECT_TRUE(positions.emplace(r.stream, r.version).second)
                                     << "duplicate " << r.stream << "@" << r.version;
                                 return true;
                               })
                  .ok());
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(store->stream_version("own" + std::to_string(t)), std::uint64_t{kPerThread});
  EXPECT_TRUE(store->verify().ok);
}

// The fold reads with workers ahead of it: the visitor must still see every record once, in
// order, with the fields the fold needs, and stopping early must stop it.
TEST(EventStoreTest, ParallelReadVisitsEveryRecordInOrder) {
  testing::TempDir dir;
  auto opened = EventStore::open(dir.path(), {.sync = false});
  ASSERT_TRUE(opened.ok());
  auto& store = **opened;
  std::vector<std::future<Result<AppendResult>>> pending;
  constexpr std::uint64_t kEvents = 9000;  // several chunks per worker
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    auto promise = std::make_shared<std::promise<Result<AppendResult>>>();
    pending.push_back(promise->get_future());
    store.append_async(reveal("tok_" + std::to_string(i % 97), kAnyVersion),
                       [promise](Result<AppendResult> r) { promise->set_value(std::move(r)); });
  }
  for (auto& f : pending) ASSERT_TRUE(f.get().ok());
  for (unsigned threads : {1u, 2u, 3u}) {
    std::vector<std::uint64_t> seqs;
    std::uint64_t bad = 0;
    ASSERT_TRUE(store
                    .read_range_parallel(
                        5, UINT64_MAX,
                        [&](const Record& r) {
                          seqs.push_back(r.seq);
                          if (r.stream.empty() || r.token_id != r.stream || r.owner != "alice" ||
                              !std::holds_alternative<TokenRevealed>(r.event)) {
                            ++bad;
                          }
                          return true;
                        },
                        RecordFields::fold, threads)
                    .ok());
    ASSERT_EQ(seqs.size(), kEvents - 4) << threads;
    for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 5) << threads;
    EXPECT_EQ(bad, 0u);
    std::uint64_t visited = 0;
    ASSERT_TRUE(store
                    .read_range_parallel(
                        1, UINT64_MAX, [&](const Record&) { return ++visited < 3000; }, RecordFields::fold, threads)
                    .ok());
    EXPECT_EQ(visited, 3000u) << threads;
  }
}

// The appender remembers stream versions; with a cache of one entry, alternating streams evict
// each other all the time, and every expected version must still be checked right.
TEST(EventStoreTest, StreamVersionsStayExactThroughTheAppendersCache) {
  testing::TempDir dir;
  auto opened = EventStore::open(dir.path(), {.stream_version_cache = 1});
  ASSERT_TRUE(opened.ok());
  auto& store = **opened;
  for (std::uint64_t v = 0; v < 5; ++v) {
    for (const char* stream : {"a", "b", "c"}) {
      ASSERT_TRUE(store.append(reveal(stream, v)).ok()) << stream << " " << v;
      auto stale = store.append(reveal(stream, v));
      ASSERT_FALSE(stale.ok());
      EXPECT_EQ(stale.error().code, ErrorCode::version_conflict);
    }
  }
  EXPECT_EQ(store.stream_version("b"), 5u);
  EXPECT_EQ(store.head().seq, 15u);
}

TEST(EventStoreTest, AnUnreadableLastRecordRefusesWritersButNotReaders) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.path());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->append(reveal("s", kAnyVersion)).ok());
    ASSERT_TRUE(store->raw_write("events", encode_be64(3), "garbage").ok());
  }
  auto writer = EventStore::open(dir.path(), {});
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find("verify"), std::string::npos);
  auto reader = EventStore::open(dir.path(), {.read_only = true});
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const VerifyReport report = (*reader)->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
}

TEST(EventStoreTest, ReadOnlyStoreRefusesAppends) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store->append(reveal("s", kNoStream)).ok());
  }
  auto ro = EventStore::open(dir.path(), {.read_only = true});
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ((*ro)->head().seq, 1u);
  EXPECT_EQ((*ro)->append(reveal("s", 1)).error().code, ErrorCode::unavailable);
}

}  // namespace
}  // namespace tl
