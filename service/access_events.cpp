#include "service/access_events.hpp"

#include <spdlog/spdlog.h>

#include "domain/text_rules.hpp"

namespace tl {
namespace {

constexpr std::size_t kMaxFilterBytes = 1024;

}  // namespace

AccessEvents::AccessEvents(EventLog& log, const TokenSecrets& secrets, std::chrono::milliseconds window,
                           std::size_t max_windows)
    : log_(log), secrets_(secrets), window_(window), max_windows_(max_windows) {}

AppendRequest AccessEvents::request_for(Event event, const Actor& actor, const Source& source) const {
  AppendRequest request;
  request.stream = std::string(kAccessStream);
  request.expected_version = kAnyVersion;
  request.events.push_back(std::move(event));
  request.actor = actor;
  request.source = source;
  return request;
}

void AccessEvents::queue(AppendRequest request) {
  // Not even queued when the log refuses writes: the append would only fail.
  if (log_.read_only() || !log_.writes_refused().empty()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  log_.append_async(std::move(request), [this](Result<AppendResult> appended) {
    if (appended) {
      recorded_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Counted, not logged per event: a full disk would otherwise log once per request.
    if (dropped_.fetch_add(1, std::memory_order_relaxed) == 0) {
      spdlog::warn("an access event was dropped ({}); tokenledger_access_events_dropped_total counts them",
                   appended.error().message);
    }
  });
}

void AccessEvents::record(Event event, const Actor& actor, const Source& source) {
  queue(request_for(std::move(event), actor, source));
}

// The window's later events as one record: the count, and nothing that names one of them alone
// (a path, a typed name), since one record stands for many.
Event AccessEvents::summary(const Window& w) {
  Event event = w.first;
  if (auto* denied = std::get_if<AccessDenied>(&event)) {
    denied->target.clear();
    denied->count = w.later;
    denied->first_at = w.later_from;
  } else if (auto* failed = std::get_if<UserSignInFailed>(&event)) {
    failed->username.clear();
    failed->name_hash.clear();
    failed->count = w.later;
  }
  return event;
}

void AccessEvents::take_ended(Timestamp now, bool all, std::vector<AppendRequest>& out) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& w = it->second;
    if (!all && now - w.start < window_) {
      ++it;
      continue;
    }
    if (w.later > 0) out.push_back(request_for(summary(w), w.actor, w.source));
    it = windows_.erase(it);
  }
}

void AccessEvents::coalesce(std::string key, Event event, const Actor& actor, const Source& source, Timestamp now) {
  std::vector<AppendRequest> out;
  {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(key);
    if (it != windows_.end() && now - it->second.start < window_) {
      Window& w = it->second;
      if (w.later++ == 0) w.later_from = now;
      w.source = source;
      coalesced_.fetch_add(1, std::memory_order_relaxed);
    } else {
      if (it != windows_.end()) take_ended(now, false, out);  // this key's window has ended
      if (windows_.size() >= max_windows_) take_ended(now, true, out);
      windows_[std::move(key)] = Window{now, event, 0, {}, actor, source};
      out.push_back(request_for(std::move(event), actor, source));
    }
  }
  for (auto& request : out) queue(std::move(request));
}

void AccessEvents::denied(AccessDenied denial, const Actor& actor, const Source& source, Timestamp now) {
  denial.count = 1;
  denial.first_at = now;
  std::string key = "d";
  for (std::string_view part : {std::string_view(actor.user), actor.stored_via(), std::string_view(actor.token_id),
                                std::string_view(denial.method), std::string_view(denial.route)}) {
    key.append(part).push_back('\0');
  }
  key += std::to_string(denial.status);
  coalesce(std::move(key), std::move(denial), actor, source, now);
}

void AccessEvents::sign_in_failed(UserSignInFailed failure, const Actor& actor, const Source& source, Timestamp now) {
  if (failure.reason != "throttled") {
    record(std::move(failure), actor, source);  // bounded by the throttle itself
    return;
  }
  failure.count = 1;
  coalesce("t" + source.ip, std::move(failure), actor, source, now);
}

void AccessEvents::flush(Timestamp now, bool all) {
  std::vector<AppendRequest> out;
  {
    std::lock_guard lock(mutex_);
    take_ended(now, all, out);
  }
  for (auto& request : out) queue(std::move(request));
}

AccessEvents::Counts AccessEvents::counts() const {
  return {recorded_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
          coalesced_.load(std::memory_order_relaxed)};
}

std::string canonical_filters(const std::map<std::string, std::string, std::less<>>& query) {
  // '%', '&' and '=' inside a name or value are percent-encoded (RFC 3986 §2.1), so the text
  // reads back to the same pairs.
  auto append = [](std::string& out, std::string_view text) {
    for (char c : text) {
      if (c == '%') {
        out += "%25";
      } else if (c == '&') {
        out += "%26";
      } else if (c == '=') {
        out += "%3D";
      } else {
        out += c;
      }
    }
  };
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    append(out, name);
    out += '=';
    append(out, value);
  }
  return to_valid_utf8(out, kMaxFilterBytes);
}

}  // namespace tl
