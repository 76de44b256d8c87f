// What the HTTP layer serves from: the services and its own settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "eventstore/event_store.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "http/metrics.hpp"
#include "projections/read_model.hpp"
#include "service/expiry_notifier.hpp"
#include "service/integrity_guard.hpp"
#include "service/login_throttle.hpp"
#include "service/sessions.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"

namespace tl {

struct HttpSettings {
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{30};
  bool tls = false;
  // Reveal via a session needs the password typed within this many minutes; 0: off.
  int reveal_reauth_minutes = 0;
};

struct App {
  EventStore& store;
  ReadModel& model;
  TokenService& tokens;
  UserService& users;
  SessionStore& sessions;
  LoginThrottle& throttle;
  CheckpointSigner& signer;
  IntegrityGuard& integrity;
  std::string introspection_secret;
  HttpSettings settings;
  RequestMetrics metrics;
  const ExpiryNotifier* notifier = nullptr;  // when webhooks are configured
};

}  // namespace tl
