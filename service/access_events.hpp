// The access events of the trail (issue 18 item 1; domain/events.hpp): sign-ins, failed sign-ins,
// ended sessions, refused requests, reads of the trail, the server's start and stop.
//
// Best effort by design: an access event is queued on the log and never awaited, so a refusal or a
// sign-in answers as fast as before (and a 404 for another user's token as fast as one for no
// token: both are recorded), and when the log refuses writes (--read-only, damage found, a full
// disk) the event is dropped and counted, so that signing in and reading the trail keep working
// exactly when an investigation needs them. Dropped events are counted in /metrics.
//
// Every kind is bounded so that no client can flood the log: per user (or client address, for what
// names no user) and window (a minute), the first events are recorded at once (one for refusals
// and throttled sign-ins, kPerMinute for sign-ins, session ends and reads of the trail), and the
// window's further ones as one record with their count, and nothing that names one of them alone,
// when the window has passed (flush(), run by the server every few seconds and at stop).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eventstore/event_log.hpp"
#include "eventstore/token_secrets.hpp"

namespace tl {

// The stream every access event is appended to (at any version).
inline constexpr std::string_view kAccessStream = "system:access";

class AccessEvents {
 public:
  struct Counts {
    std::uint64_t recorded = 0;   // made durable
    std::uint64_t dropped = 0;    // refused by the log, or not queued because it refuses writes
    std::uint64_t coalesced = 0;  // counted into a later record past their window's budget, not one each
  };

  // `window`: the span over which events of one kind are bounded; `max_windows`: open windows kept
  // at most (past it, every window is flushed at once, so memory stays bounded).
  // `secrets`: the master key's, for name_hash.
  AccessEvents(EventLog& log, const TokenSecrets& secrets, std::chrono::milliseconds window = std::chrono::minutes{1},
               std::size_t max_windows = 10'000);

  // At most this many events of one kind are recorded one by one per user (or client address)
  // and window; the window's others are one record with their count.
  static constexpr std::uint64_t kPerMinute = 60;

  // Queues `event` (one of the access events) as one record by `actor` from `source`; never waits.
  // For the server's own events (ServerStarted, ServerStopped); the rest go through the bounded
  // entry points below.
  void record(Event event, const Actor& actor, const Source& source);
  // A refused request: per (user, via, method, route, status), or per client address for one that
  // names no user (a 401), the first of a window recorded at once, the others counted (see above).
  // `denial.count` and `denial.first_at` are set here.
  void denied(AccessDenied denial, const Actor& actor, const Source& source, Timestamp now);
  // A refused sign-in. Those the throttle refused are coalesced per client address like refusals,
  // with no name in the summary (an attacker past the throttle would otherwise write a record per
  // try, unauthenticated); the others are bounded by the throttle and each recorded.
  void sign_in_failed(UserSignInFailed failure, const Actor& actor, const Source& source, Timestamp now);
  // A sign-in, a session's end, a read of the trail (AuditRead or AuditExported): kPerMinute per
  // user (and for reads per via and route) one by one, then counted.
  void signed_in(const Actor& actor, const Source& source, Timestamp now);
  void session_ended(SessionEnded ended, const Actor& actor, const Source& source, Timestamp now);
  void audit_read(Event read, const Actor& actor, const Source& source, Timestamp now);
  // Records the coalesced events of every window that ended by `now`; of all windows when `all`.
  void flush(Timestamp now, bool all = false);
  Counts counts() const;
  // UserSignInFailed's name_hash of a typed name that is no account (TokenSecrets::name_hash of
  // its canonical form, so "Bob" and "bob" count together).
  std::string name_hash(std::string_view canonical_name) const { return secrets_.name_hash(canonical_name); }

 private:
  struct Window {
    Timestamp start{};
    Event first;              // the event that opened the window (the summary's template)
    std::uint64_t shown = 0;  // recorded one by one
    std::uint64_t later = 0;  // counted past the budget
    Timestamp later_from{};   // when the first of those came
    Actor later_actor;        // whom the summary names
    Source source;            // of the latest counted event
  };
  struct Coalescing {
    std::string key;
    std::uint64_t budget = 1;  // recorded one by one per window
    bool nameless = false;     // kept per address: the summary names no user
  };
  static Event summary(const Window& w);
  void coalesce(const Coalescing& how, Event event, const Actor& actor, const Source& source, Timestamp now);
  void queue(AppendRequest request);
  void take_ended(Timestamp now, bool all, std::vector<AppendRequest>& out);
  AppendRequest request_for(Event event, const Actor& actor, const Source& source) const;

  EventLog& log_;
  const TokenSecrets& secrets_;
  const std::chrono::milliseconds window_;
  const std::size_t max_windows_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::atomic<std::uint64_t> recorded_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> coalesced_{0};
};

// The filters of a read of the trail as AuditRead/AuditExported record them: the query's
// name=value pairs sorted by name, joined by '&' ('%', '&', '=' in them percent-encoded; valid
// UTF-8, at most 1 KiB).
std::string canonical_filters(const std::map<std::string, std::string, std::less<>>& query);

}  // namespace tl
