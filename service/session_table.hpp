// Where sign-in sessions are kept (SessionStore): in this process's memory (one server), or in the
// state of a log that several processes share (PostgreSQL, issue 19), so that any node serves any
// request and a sign-out on one node ends the session on all. Keys are the SHA-256 (hex) of the
// session id, never the id.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/time.hpp"

namespace tl {

class EventLog;

struct StoredSession {
  std::string username;
  Timestamp created{};
  Timestamp last_seen{};
  Timestamp authenticated{};  // when the password was last typed (sign-in or re-authentication)
};

// Not thread-safe: SessionStore serializes its calls.
class SessionTable {
 public:
  virtual ~SessionTable() = default;
  virtual std::optional<StoredSession> get(const std::string& key) = 0;
  // Each true when the change is stored; false when the storage refused it (logged): a session
  // another server could still serve, or one no server knows.
  virtual bool put(const std::string& key, const StoredSession& session) = 0;
  virtual bool erase(const std::string& key) = 0;
  // A newer last use or re-authentication of a session, written only where the session still
  // exists: a sign-out on another server that came first stands (OWASP Session Management: a
  // session ended on the server stays ended). `gone` when it no longer exists; `refused` when the
  // storage could not be written (logged; the session goes on as it was stored).
  enum class Refreshed { written, gone, refused };
  virtual Refreshed refresh(const std::string& key, const StoredSession& session) = 0;
  // Every session, with its key.
  virtual std::vector<std::pair<std::string, StoredSession>> all() = 0;
  // True when other processes see these sessions too: last_seen is then written at most every
  // minute or so, and a stopping server leaves them standing.
  virtual bool shared() const = 0;
  // True when this process sweeps expired sessions (and records their end): always in memory;
  // the process that runs the log's singular jobs when shared (EventLog::runs_singletons).
  virtual bool sweeps() const = 0;
};

std::unique_ptr<SessionTable> memory_session_table();
// In `log`'s state, family "sessions" (key: the id's hash; value: be64 created, last_seen and
// authenticated in ms, then the username). When the storage cannot be read, a session this process
// has read or written before is answered from memory (a node keeps serving reads through a database
// outage); any other reads as no session (fail closed). A write the storage refuses is lost (the
// session then ends early); a sign-out always ends the session in this process.
std::unique_ptr<SessionTable> shared_session_table(EventLog& log);

}  // namespace tl
