// The embedded log's own rules: tampering found, the parallel read, the stream-version cache, an
// unreadable last record. What every log must do is in tests/pg/event_log_contract_test.cpp, which
// runs here too (unit_tests) against RocksDB.
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

}  // namespace
}  // namespace tl
