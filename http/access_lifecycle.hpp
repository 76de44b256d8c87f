// The server's own access events (issue 18 item 1): ServerStarted with what matters of this start,
// and the periodic sweep that records expired sessions and coalesced refusals close to when they
// happen (service/access_events.hpp, service/sessions.hpp).
#pragma once

#include <chrono>

#include "http/access_notes.hpp"
#include "http/app.hpp"
#include "http/net.hpp"
#include "http/server_options.hpp"

namespace tl {

// This start's ServerStarted: the build, the options that bear on what is trusted and recorded
// (name=value, space separated), and what the start-up check of the log found.
ServerStarted server_started_event(const ServerOptions& o, const IntegrityGuard& guard);

// At a stop, before the appender stops: SessionEnded ("server_stopped") for every live session
// (sessions live in memory), the coalesced counts of every open window, then ServerStopped.
void record_stop(AccessEvents& access, SessionStore& sessions);

// Every `every`, on the worker pool: SessionEnded for each session found expired (idle or
// lifetime) and the AccessDenied counts of the refusal windows that ended.
class AccessSweep {
 public:
  AccessSweep(net::asio::io_context& io, net::asio::thread_pool& workers, App& app, std::chrono::seconds every)
      : timer_(io), workers_(workers), app_(app), every_(every) {}
  void start() { arm(); }
  void cancel() { timer_.cancel(); }
  // One sweep now, on the calling thread (also what the timer runs).
  void sweep_now();

 private:
  void arm();

  net::asio::steady_timer timer_;
  net::asio::thread_pool& workers_;
  App& app_;
  std::chrono::seconds every_;
};

}  // namespace tl
