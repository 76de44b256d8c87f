#include "service/expiry_notifier.hpp"

#include <spdlog/spdlog.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace tl {

void ExpiryNotifier::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      scan(now_ms());
      lock.lock();
      wake_.wait_for(lock, scan_every_, [&] { return stopping_; });
    }
  });
}

void ExpiryNotifier::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t ExpiryNotifier::scan(Timestamp now) {
  if (!store_.runs_singletons()) return 0;  // another process shares the log and sends them
  const auto due = model_.tokens().select([&](const TokenState& t) { return due_expiry_notice(t, now).has_value(); });
  std::size_t sent = 0;
  for (const TokenRow& row : due) {
    const auto notice = due_expiry_notice(row.state, now);
    if (!notice) continue;
    const std::string window(notice_window(*notice));
    const std::string delivery_id =
        row.state.id + ":" + window + ":" + std::to_string(row.state.expires_at().time_since_epoch().count());
    JsonWriter w;
    w.begin_object()
        .key("event")
        .value(*notice == ExpiryNotice::expired ? "token.expired" : "token.expiring")
        .key("window")
        .value(window)
        .key("delivery_id")
        .value(delivery_id)
        .key("token_id")
        .value(row.state.id)
        .key("owner")
        .value(row.state.owner)
        .key("description")
        .value(row.state.description)
        .key("expires_at")
        .value(format_rfc3339(row.state.expires_at()))
        .key("sent_at")
        .value(format_rfc3339(now))
        .end_object();
    const bool ok = deliver_(w.str(), delivery_id);
    if (ok) {
      ++delivered_;
      ++sent;
    } else {
      ++failed_;
      spdlog::warn("expiry notice {} for token {} could not be delivered", window, row.state.id);
    }
    // Recorded either way, so a dead receiver is not retried forever; the event says whether
    // it was delivered. A conflict (the token changed meanwhile) leaves it for the next scan.
    auto recorded = store_.append({row.state.id,
                                   row.state.version,
                                   {TokenExpiryNotified{window, ok}},
                                   {"system", Via::system, {}},
                                   {},
                                   row.state.owner,
                                   {}});
    if (!recorded && recorded.error().code != ErrorCode::version_conflict) {
      spdlog::warn("expiry notice for token {} not recorded: {}", row.state.id, recorded.error().message);
    }
  }
  return sent;
}

}  // namespace tl
