#include "service/usage_tracker.hpp"

#include <spdlog/spdlog.h>

namespace tl {

AppendRequest UsageTracker::used_event(const std::string& id, const Use& use) const {
  // The expected version keeps a late TokenUsed from landing after the token's deletion: the
  // append is then refused as a conflict, which is right.
  return {id,        use.version, {TokenUsed{use.at, use.ip}}, {use.owner, Via::api_token, id}, {use.ip, {}, {}},
          use.owner, {}};
}

void UsageTracker::record(const TokenRow& row, const std::string& ip, Timestamp now) {
  std::optional<AppendRequest> append;
  {
    std::lock_guard lock(mutex_);
    Use& use = uses_[row.state.id];
    use.at = now;
    use.ip = ip;
    use.owner = row.state.owner;
    use.version = row.state.version;
    const Timestamp last_logged = std::max(use.logged, row.state.last_used_at.value_or(Timestamp{}));
    if (now - last_logged >= interval_) {
      use.logged = now;
      use.pending = false;
      append = used_event(row.state.id, use);
    } else {
      use.pending = true;
    }
  }
  if (append) {
    store_.append_async(std::move(*append), [](Result<AppendResult> r) {
      if (!r && r.error().code != ErrorCode::version_conflict)
        spdlog::warn("TokenUsed not logged: {}", r.error().message);
    });
  }
}

TokenRow UsageTracker::with_latest_use(TokenRow row) const {
  std::lock_guard lock(mutex_);
  auto it = uses_.find(row.state.id);
  if (it != uses_.end() && (!row.state.last_used_at || it->second.at > *row.state.last_used_at)) {
    row.state.last_used_at = it->second.at;
    row.state.last_used_ip = it->second.ip;
  }
  return row;
}

void UsageTracker::flush() {
  std::vector<std::pair<std::string, Use>> pending;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, use] : uses_) {
      if (use.pending) pending.emplace_back(id, use);
      use.pending = false;
    }
  }
  std::size_t written = 0;
  for (const auto& [id, use] : pending) {
    // The version may have moved on (reveals, edits); log against the current one, and not
    // at all for a token deleted since.
    auto row = tokens_.get(id);
    if (!row) continue;
    AppendRequest req = used_event(id, use);
    req.expected_version = row->state.version;
    if (store_.append(std::move(req))) ++written;
  }
  if (!pending.empty()) spdlog::info("flushed the latest use of {} tokens", written);
}

}  // namespace tl
