// What only the PostgreSQL log has (issue 19): the synchronous-standby rule, several processes
// on one database, the head row, the schema version, lost connections and unconfirmed commits.
#include "eventstore/pg_log.hpp"

#include <gtest/gtest.h>

#include <future>
#include <numeric>
#include <thread>

#include "eventstore/pg_connection.hpp"
#include "pg/log_support.hpp"
#include "pg/pg_instance.hpp"

namespace tl {
namespace {

using testing::reveal;
using Counter = testing::SeqsTold;

std::unique_ptr<EventLog> open_log(const std::string& url, bool allow_async = true, bool read_only = false) {
  auto log = open_pg_log({.url = url, .read_only = read_only, .allow_async = allow_async});
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().message);
  return log.ok() ? std::move(log).value() : nullptr;
}

std::unique_ptr<PgConn> sql(const std::string& url) { return PgConn::connect(url, {}).value(); }

std::int64_t count(PgConn& conn, const std::string& query) { return conn.exec(query).value().int64(0, 0); }

TEST(PgLogTest, AppendsAreRefusedWithoutASynchronousStandbyUnlessAllowed) {
  const std::string url = testing::PgInstance::get().new_database();
  auto strict = open_log(url, /*allow_async=*/false);
  auto refused = strict->append(reveal("s", kNoStream));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_NE(refused.error().message.find("synchronous_standby_names"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("nothing was changed"), std::string::npos);
  auto conn = sql(url);
  EXPECT_EQ(count(*conn, "SELECT count(*) FROM tl_events"), 0);
  EXPECT_EQ(strict->head().seq, 0u);
  auto relaxed = open_log(url, /*allow_async=*/true);
  EXPECT_TRUE(relaxed->append(reveal("s", kNoStream)).ok());
}

TEST(PgLogTest, TwoProcessesShareOneGapFreeChain) {
  const std::string url = testing::PgInstance::get().new_database();
  auto one = open_log(url);
  auto two = open_log(url);
  Counter told_two;
  two->subscribe(&told_two);
  two->follow_others();
  constexpr int kRounds = 25;
  std::vector<std::thread> writers;
  std::atomic<int> conflicts{0};
  for (EventLog* log : {one.get(), two.get()}) {
    writers.emplace_back([&, log] {
      for (int i = 0; i < kRounds; ++i) {
        if (!log->append(reveal("mine" + std::to_string(reinterpret_cast<std::uintptr_t>(log)), kAnyVersion)).ok()) {
          ADD_FAILURE();
        }
        // Both race for one stream at the version each last saw: the database decides.
        auto shared = log->append(reveal("shared", log->stream_version("shared")));
        if (!shared.ok()) {
          EXPECT_EQ(shared.error().code, ErrorCode::version_conflict);
          ++conflicts;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  // A last append through `two` brings it up to the database's head: it was told of every
  // record, `one`'s included, in order, once.
  ASSERT_TRUE(two->append(reveal("last", kNoStream)).ok());
  auto conn = sql(url);
  const std::int64_t stored = count(*conn, "SELECT count(*) FROM tl_events");
  EXPECT_EQ(stored, 2 * 2 * kRounds - conflicts.load() + 1);
  EXPECT_EQ(count(*conn, "SELECT max(seq) FROM tl_events"), stored);
  std::vector<std::uint64_t> expected(static_cast<std::size_t>(stored));
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(told_two.copy(), expected);
  EXPECT_EQ(two->head().seq, static_cast<std::uint64_t>(stored));
  const VerifyReport report = two->verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, static_cast<std::uint64_t>(stored));
  // No stream version was used twice.
  EXPECT_EQ(count(*conn, "SELECT count(*) FROM (SELECT DISTINCT stream, version FROM tl_streams) v"), stored);
}

TEST(PgLogTest, OneProcessRunsTheSingularJobsAndAnotherTakesOverWhenItEnds) {
  const std::string url = testing::PgInstance::get().new_database();
  auto one = open_log(url);
  auto two = open_log(url);
  EXPECT_TRUE(one->runs_singletons());  // the first to start
  EXPECT_FALSE(two->runs_singletons());
  one->close();
  bool taken = false;
  for (int i = 0; i < 50 && !taken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    taken = two->runs_singletons();
  }
  EXPECT_TRUE(taken) << "the second process never took over";
  // A follower's lag: none once it has caught up.
  ASSERT_TRUE(two->follow_lag().has_value());
  EXPECT_EQ(two->follow_lag()->events, 0u);
}

TEST(PgLogTest, AProcessFollowsAppendsItDidNotMake) {
  const std::string url = testing::PgInstance::get().new_database();
  auto writer = open_log(url);
  auto reader = open_log(url);
  Counter told;
  reader->subscribe(&told);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer->append(reveal("s", kAnyVersion)).ok());
  // Until follow_others() (the projections are loading from the head as it stood), nothing moves.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(reader->head().seq, 0u);
  EXPECT_TRUE(told.copy().empty());
  reader->follow_others();
  // No append through `reader`: its follower (LISTEN/NOTIFY, or the half-second poll) brings it up.
  for (int i = 0; i < 100 && reader->head().seq < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(reader->head().seq, 5u);
  EXPECT_EQ(reader->head().hash, writer->head().hash);
  EXPECT_EQ(told.copy(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
}

TEST(PgLogTest, ACutOrRewrittenLogRefusesAWritableOpenAndVerifyNamesTheRecord) {
  const std::string url = testing::PgInstance::get().new_database();
  {
    auto log = open_log(url);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->append(reveal("s", kAnyVersion)).ok());
  }
  auto conn = sql(url);
  // One byte of record 3 changed (its hash no longer matches).
  ASSERT_TRUE(
      conn->exec("UPDATE tl_events SET record = overlay(record placing 'X'::bytea from 30) WHERE seq = 3").ok());
  {
    auto log = open_log(url);
    const VerifyReport report = log->verify();
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.first_bad_seq, 3u);
    EXPECT_EQ(report.kind, "chain");
  }
  // The last record cut: the head row names seq 6, the log ends at 5.
  ASSERT_TRUE(conn->exec("DELETE FROM tl_events WHERE seq = 6").ok());
  auto writable = open_pg_log({.url = url, .allow_async = true});
  ASSERT_FALSE(writable.ok());
  EXPECT_NE(writable.error().message.find("verify"), std::string::npos) << writable.error().message;
  auto reader = open_log(url, true, /*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->head().seq, 5u);
  EXPECT_EQ(reader->head_marker()->seq, 6u);
}

TEST(PgLogTest, AStreamIndexRowThatPointsElsewhereIsFound) {
  const std::string url = testing::PgInstance::get().new_database();
  auto log = open_log(url);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->append(reveal("s", kAnyVersion)).ok());
  ASSERT_TRUE(sql(url)->exec("UPDATE tl_streams SET seq = 4 WHERE version = 2").ok());
  const VerifyReport report = log->verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2u);
  EXPECT_EQ(report.kind, "stream_index");
}

TEST(PgLogTest, ASchemaNewerThanTheProgramIsRefused) {
  const std::string url = testing::PgInstance::get().new_database();
  { ASSERT_TRUE(open_log(url)); }
  ASSERT_TRUE(sql(url)->exec("UPDATE tl_schema SET version = 99").ok());
  auto refused = open_pg_log({.url = url, .allow_async = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("schema version 99"), std::string::npos) << refused.error().message;
}

TEST(PgLogTest, AnUnreachableDatabaseIsUnavailableWithoutItsPassword) {
  auto refused = open_pg_log({.url = "postgresql://tl:s3cret@127.0.0.1:1/none?connect_timeout=2"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos) << refused.error().message;
}

TEST(PgLogTest, AConnectionEndedByTheServerBetweenAppendsIsMadeAnew) {
  const std::string url = testing::PgInstance::get().new_database();
  auto log = open_log(url);
  ASSERT_TRUE(log->append(reveal("s", kNoStream)).ok());
  auto conn = sql(url);
  ASSERT_TRUE(conn->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                         "'tokenledger' AND pid <> pg_backend_pid()")
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto next = log->append(reveal("s", 1));
  EXPECT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(count(*conn, "SELECT count(*) FROM tl_events"), 2);
}

// PostgreSQL returns a COMMIT whose wait for the synchronous standby was cancelled as a success
// with a warning: the write stands on the primary only, and must not be acknowledged.
TEST(PgLogTest, ACommitWhoseReplicationWaitWasCancelledIsNotAcknowledged) {
  auto& pg = testing::PgInstance::get();
  const std::string url = pg.new_database();
  auto log = open_log(url, /*allow_async=*/false);
  pg.admin("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  pg.admin("SELECT pg_reload_conf()");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::promise<Result<AppendResult>> answered;
  log->append_async(reveal("s", kNoStream), [&](Result<AppendResult> r) { answered.set_value(std::move(r)); });
  auto conn = sql(url);
  bool cancelled = false;
  for (int i = 0; i < 100 && !cancelled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancelled = count(*conn,
                      "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE wait_event = "
                      "'SyncRep'") > 0;
  }
  pg.admin("ALTER SYSTEM RESET synchronous_standby_names");
  pg.admin("SELECT pg_reload_conf()");
  ASSERT_TRUE(cancelled) << "the COMMIT never waited for a standby";
  auto outcome = answered.get_future().get();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ErrorCode::unavailable);
  EXPECT_NE(outcome.error().message.find("not acknowledged"), std::string::npos) << outcome.error().message;
  // It is in the primary's log; this process folds it as it folds the others' records, not as
  // its own acknowledged write.
  EXPECT_EQ(count(*conn, "SELECT count(*) FROM tl_events"), 1);
  EXPECT_EQ(log->head().seq, 0u);
  log->follow_others();
  for (int i = 0; i < 100 && log->head().seq < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(log->head().seq, 1u);
}

// A URL libpq cannot parse: its parse error quotes the text, which may be the password.
TEST(PgLogTest, AURLThatCannotBeParsedIsNotQuoted) {
  auto refused = open_pg_log({.url = "postgresql://tl:s3%ZZcret@127.0.0.1:1/none"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("cannot be parsed"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("s3%ZZcret"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("cret"), std::string::npos) << refused.error().message;
}

// A role's timeouts and isolation level are overridden on every connection: a statement_timeout
// would cancel a COMMIT waiting for the standby, and repeatable read would refuse a second
// process's append instead of letting it wait for the head row.
TEST(PgLogTest, ARolesTimeoutsAndIsolationLevelDoNotReachTheLog) {
  const std::string url = testing::PgInstance::get().new_database();
  const std::string db = url.substr(url.rfind('/') + 1);
  // The timeout last: a session opened after it has it too, and its ALTER could be cancelled.
  ASSERT_TRUE(sql(url)->exec("ALTER DATABASE " + db + " SET default_transaction_isolation = 'repeatable read'").ok());
  ASSERT_TRUE(sql(url)->exec("ALTER DATABASE " + db + " SET statement_timeout = '1ms'").ok());
  auto one = open_log(url);
  auto two = open_log(url);
  ASSERT_TRUE(one && two);  // each session lifts the database's 1 ms statement_timeout first
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (auto* log : {one.get(), two.get()}) {
    writers.emplace_back([&, log] {
      for (int i = 0; i < 20; ++i) failed += !log->append(reveal("s", kAnyVersion)).ok();
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failed.load(), 0);
  auto check = PgConn::connect(url, {"SET statement_timeout = 0"}).value();
  EXPECT_EQ(count(*check, "SELECT count(*) FROM tl_events"), 40);
}

// A statement the server cannot carry out now, for a reason of the server's (PostgreSQL's
// SQLSTATE classes 08, 53, 57, 58 and the like: here 57P01, "terminating connection due to
// administrator command", as during a failover, raised by a trigger while the connection stays
// up), makes an append unavailable (503: try again), not an internal fault (500); nothing is
// written.
TEST(PgLogTest, AServerThatCannotWriteNowIsUnavailableNotAFault) {
  const std::string url = testing::PgInstance::get().new_database();
  auto log = open_log(url);
  ASSERT_TRUE(log->append(reveal("s", kNoStream)).ok());
  auto conn = sql(url);
  ASSERT_TRUE(conn->exec("CREATE FUNCTION shutting_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'shutting "
                         "down' USING ERRCODE = '57P01'; END $$ LANGUAGE plpgsql")
                  .ok());
  ASSERT_TRUE(
      conn->exec(
              "CREATE TRIGGER shutting_down BEFORE INSERT ON tl_events FOR EACH ROW EXECUTE FUNCTION shutting_down()")
          .ok());
  auto refused = log->append(reveal("s", 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable) << refused.error().message;
  EXPECT_EQ(count(*conn, "SELECT count(*) FROM tl_events"), 1);
  ASSERT_TRUE(conn->exec("DROP TRIGGER shutting_down ON tl_events").ok());
  EXPECT_TRUE(log->append(reveal("s", 1)).ok()) << "the next append goes through";
}

}  // namespace
}  // namespace tl
