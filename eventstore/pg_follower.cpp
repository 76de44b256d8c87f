// Following the log when other processes append to it too (issue 19, item 2): a connection
// LISTENs on tl_appended, which every batch NOTIFYs on commit, and checks the head row at least
// every half second besides (a notification is lost while the connection is down). When the
// database's head is past this process's, the appender is asked to catch up: it folds the records
// in between (index writers' entries came with them; subscribers are told), in order, on its own
// thread, as it does before each batch. Not before follow_others(): the projections load from the
// head as it stood, and a fold on the appender's thread meanwhile would race their load.
//
// The same connection takes and holds the session advisory lock that makes this process the one
// that runs the jobs that must run once (runs_singletons); PostgreSQL releases it when the
// connection ends, and another process's follower takes it on its next turn.
#include <spdlog/spdlog.h>

#include "eventstore/pg_log_impl.hpp"

namespace tl {
namespace {

// The advisory lock key of the jobs that run once ("tl-singl").
constexpr const char* kSingletonLock = "SELECT pg_try_advisory_lock(8388067061616914540)";

}  // namespace

void PgLog::connect_follower() {
  singletons_.store(false);
  follower_conn_.reset();
  auto made = PgConn::connect(options_.url, pg_session_settings("tokenledger follower"));
  if (!made || !(*made)->exec("LISTEN tl_appended")) return;
  follower_conn_ = std::move(made).value();
  try_singletons();
}

void PgLog::try_singletons() {
  if (singletons_.load() || !follower_conn_) return;
  auto taken = follower_conn_->exec(kSingletonLock);
  if (taken && taken->rows() == 1 && taken->bytes(0, 0) == std::string_view("\1", 1)) {
    singletons_.store(true);
    spdlog::info("PostgreSQL log: this process runs the jobs that run once (checkpoints, scrub, expiry notices)");
  }
}

void PgLog::follow() {
  auto stopping = [&] {
    std::lock_guard lock(queue_mutex_);
    return stopping_;
  };
  while (!stopping()) {
    if (!follower_conn_ || follower_conn_->connection_lost()) {
      if (singletons_.load()) spdlog::warn("PostgreSQL log: the advisory lock went with its connection");
      connect_follower();
      if (!follower_conn_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
    }
    (void)follower_conn_->wait_notification(std::chrono::milliseconds(500));
    try_singletons();
    auto head_row = follower_conn_->exec("SELECT seq FROM tl_head");
    if (!head_row || head_row->rows() != 1) continue;
    const auto database_head = static_cast<std::uint64_t>(head_row->int64(0, 0));
    const bool behind = database_head > head().seq;
    {
      std::lock_guard lock(lag_mutex_);
      last_contact_ = std::chrono::steady_clock::now();
      database_head_ = database_head;
      if (!behind) {
        behind_since_.reset();
      } else if (!behind_since_) {
        behind_since_ = std::chrono::steady_clock::now();
      }
    }
    if (!behind || !following_.load()) continue;
    {
      std::lock_guard lock(queue_mutex_);
      catch_up_ = true;
    }
    queue_cv_.notify_one();
  }
}

void PgLog::follow_others() {
  if (options_.read_only) return;
  following_.store(true);
  {
    std::lock_guard lock(queue_mutex_);
    catch_up_ = true;
  }
  queue_cv_.notify_one();
}

std::optional<EventLog::FollowLag> PgLog::follow_lag() const {
  const std::uint64_t mine = head().seq;
  std::lock_guard lock(lag_mutex_);
  FollowLag lag;
  // The follower asks every half second: more than a second without an answer is a lost contact.
  const double silent = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_contact_).count();
  if (silent > 1.0) lag.since_contact_seconds = silent;
  if (database_head_ > mine && behind_since_) {
    lag.events = database_head_ - mine;
    lag.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - *behind_since_).count();
  }
  return lag;
}

}  // namespace tl
