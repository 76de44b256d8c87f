// Throwaway PostgreSQL instances for the tests (tests/pg/pg_instance.sh), on free loopback ports
// in temporary directories, stopped when they go: one shared by a test binary (get()), or a
// primary and its streaming standby of a test's own (start(), start_standby()).
#pragma once

#include <memory>
#include <string>

namespace tl::testing {

class PgInstance {
 public:
  // The instance shared by the process, started by the first call; throws when it cannot start.
  static PgInstance& get();
  // An instance of the caller's own; throws when it cannot start.
  static std::unique_ptr<PgInstance> start();
  ~PgInstance();
  PgInstance(const PgInstance&) = delete;
  PgInstance& operator=(const PgInstance&) = delete;

  // A streaming standby of this instance (pg_basebackup -R), on its own port.
  std::unique_ptr<PgInstance> start_standby();
  void kill();     // kill -9 of the postmaster
  void promote();  // pg_ctl promote (a standby)
  void restart();  // starts it again after kill() (crash recovery), on the same port

  int port() const { return port_; }
  // A new, empty database; returns its connection URI (postgresql://postgres@127.0.0.1:PORT/NAME).
  std::string new_database();
  // Runs one statement on the maintenance database (e.g. ALTER SYSTEM, pg_reload_conf()).
  void admin(const std::string& sql);

 private:
  explicit PgInstance(int primary_port);
  std::string dir_;
  int port_ = 0;
  int databases_ = 0;
};

}  // namespace tl::testing
