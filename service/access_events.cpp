#include "service/access_events.hpp"

#include <spdlog/spdlog.h>

#include <type_traits>

#include "domain/text_rules.hpp"

namespace tl {
namespace {

constexpr std::size_t kMaxFilterBytes = 1024;

// The key of a window: its kind, then the parts, each ended by \0 (no part holds one: the router
// keeps NUL out of every header and path it records).
std::string window_key(char kind, std::initializer_list<std::string_view> parts) {
  std::string key(1, kind);
  for (std::string_view part : parts) key.append(part).push_back('\0');
  return key;
}

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
// (a path, a typed name, a slice), since one record stands for many.
Event AccessEvents::summary(const Window& w) {
  Event event = w.first;
  std::visit(
      [&](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, AccessDenied>) {
          e.target.clear();
          e.first_at = w.later_from;
        } else if constexpr (std::is_same_v<E, UserSignInFailed>) {
          e.username.clear();
          e.name_hash.clear();
        } else if constexpr (std::is_same_v<E, AuditRead> || std::is_same_v<E, AuditExported>) {
          e.filters.clear();
        }
        if constexpr (requires { e.count; }) e.count = w.later;
      },
      event);
  return event;
}

void AccessEvents::take_ended(Timestamp now, bool all, std::vector<AppendRequest>& out) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& w = it->second;
    if (!all && now - w.start < window_) {
      ++it;
      continue;
    }
    if (w.later > 0) out.push_back(request_for(summary(w), w.later_actor, w.source));
    it = windows_.erase(it);
  }
}

void AccessEvents::coalesce(const Coalescing& how, Event event, const Actor& actor, const Source& source,
                            Timestamp now) {
  std::vector<AppendRequest> out;
  {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(how.key);
    if (it != windows_.end() && now - it->second.start >= window_) {
      take_ended(now, false, out);  // this key's window (and any other ended one) is over
      it = windows_.end();
    }
    if (it == windows_.end()) {
      if (windows_.size() >= max_windows_) take_ended(now, true, out);
      it = windows_.emplace(how.key, Window{.start = now, .first = event}).first;
    }
    Window& w = it->second;
    if (w.shown < how.budget) {
      ++w.shown;
      out.push_back(request_for(std::move(event), actor, source));
    } else {
      // The summary's actor: the one every event it stands for had, its user and token each only
      // while they were the same (a session's ends may come from several admins), and no name at
      // all for one kept per address.
      if (w.later++ == 0) {
        w.later_from = now;
        w.later_actor = how.nameless ? Actor{{}, actor.via, {}} : actor;
      } else {
        if (w.later_actor.user != actor.user) w.later_actor.user.clear();
        if (w.later_actor.token_id != actor.token_id) w.later_actor.token_id.clear();
      }
      w.source = source;
      coalesced_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  for (auto& request : out) queue(std::move(request));
}

void AccessEvents::denied(AccessDenied denial, const Actor& actor, const Source& source, Timestamp now) {
  denial.count = 1;
  denial.first_at = now;
  const std::string status = std::to_string(denial.status);
  // A 401 names no user: kept per client address, like throttled sign-ins.
  const bool anonymous = actor.user.empty();
  Coalescing how{window_key('d', {anonymous ? std::string_view(source.ip) : std::string_view(actor.user),
                                  actor.stored_via(), denial.method, denial.route, status}),
                 1, anonymous};
  coalesce(how, std::move(denial), actor, source, now);
}

void AccessEvents::sign_in_failed(UserSignInFailed failure, const Actor& actor, const Source& source, Timestamp now) {
  if (failure.reason != "throttled") {
    record(std::move(failure), actor, source);  // bounded by the throttle itself
    return;
  }
  coalesce({window_key('t', {source.ip}), 1, true}, std::move(failure), actor, source, now);
}

void AccessEvents::signed_in(const Actor& actor, const Source& source, Timestamp now) {
  coalesce({window_key('s', {actor.user}), kPerMinute, false}, UserSignedIn{}, actor, source, now);
}

void AccessEvents::session_ended(SessionEnded ended, const Actor& actor, const Source& source, Timestamp now) {
  coalesce({window_key('e', {ended.username, ended.reason}), kPerMinute, false}, std::move(ended), actor, source, now);
}

void AccessEvents::audit_read(Event read, const Actor& actor, const Source& source, Timestamp now) {
  const std::string_view what =
      std::holds_alternative<AuditRead>(read) ? std::get<AuditRead>(read).route : std::string_view("export");
  coalesce({window_key('r', {actor.user, actor.stored_via(), what}), kPerMinute, false}, std::move(read), actor, source,
           now);
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
