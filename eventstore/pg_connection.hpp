// A thin RAII layer over libpq for the PostgreSQL event log (eventstore/pg_log.hpp): one
// connection (PgConn), its results (PgResult), binary parameters (PgParams) and a pool of
// connections for readers (PgPool). Private to eventstore/. Parameters and results travel in
// PostgreSQL's binary format, so bytea and bigint are exact bytes, never escaped text
// (PostgreSQL 15 docs, "libpq - C Library", 34.3.1 PQexecParams).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

struct pg_conn;
struct pg_result;

namespace tl {

// One result; rows and columns from 0. Columns of binary results: bigint as be64, bytea and text
// as their bytes.
class PgResult {
 public:
  explicit PgResult(pg_result* r = nullptr) : r_(r) {}
  PgResult(PgResult&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  bool null(int row, int col) const;
  std::string_view bytes(int row, int col) const;
  std::int64_t int64(int row, int col) const;  // a bigint column (8 bytes, network order)

 private:
  pg_result* r_;
};

// Parameters of one statement, all sent in binary format.
class PgParams {
 public:
  PgParams& bytes(std::string_view value);
  PgParams& int64(std::int64_t value);
  PgParams& null();

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> storage_;  // each value's bytes
  std::vector<bool> is_null_;
  mutable std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// One connection. Not shared between threads. Every statement's error is a value:
// unavailable when the connection failed (the statement's outcome is then unknown: see
// connection_lost), internal for any other refusal, with PostgreSQL's message and SQLSTATE.
class PgConn {
 public:
  // Connects to `url` (a libpq connection string or URI) and sets `settings` (statements run
  // once, e.g. "SET synchronous_commit = on"). TCP keepalives (idle 5 s, then 3 probes 2 s apart)
  // and tcp_user_timeout 10 s unless the URL sets them, so that a peer gone without a word is
  // noticed in seconds (libpq's "Parameter Key Words"). Errors: unavailable, saying the URL cannot
  // be parsed or naming the server's words; never the URL's password.
  static Result<std::unique_ptr<PgConn>> connect(const std::string& url, const std::vector<std::string>& settings);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  Result<PgResult> exec(const std::string& sql, const PgParams& params = {});
  // Sends `sql` then copy data in PostgreSQL's binary COPY format (PostgreSQL 15 docs, COPY,
  // "Binary Format"): `rows` of `columns` values each, bigint values as be64.
  Status copy_in(const std::string& sql, const std::vector<std::vector<std::string_view>>& rows);

  // Waits at most `timeout` for a notification of a channel this connection LISTENs to; true
  // when one (or more) came, all of them taken. False on timeout or a broken connection.
  bool wait_notification(std::chrono::milliseconds timeout);

  // True once a statement failed because the connection broke.
  bool connection_lost() const;
  // True while a transaction is open (or aborted) on this connection.
  bool in_transaction() const;
  // The server process serving this connection (pg_backend_pid()).
  int backend_pid() const;
  // Warnings the server sent since the last call (e.g. "canceling wait for synchronous
  // replication ... committed locally, but might not have been replicated").
  std::vector<std::string> take_warnings();
  // The SQLSTATE of the last failed statement ("" when it succeeded or the connection broke).
  const std::string& last_sqlstate() const { return sqlstate_; }

 private:
  PgConn() = default;
  Error fail(std::string_view what, pg_result* r);

  pg_conn* conn_ = nullptr;
  std::string sqlstate_;
  std::vector<std::string> warnings_;
};

// Connections for readers: any thread takes one for a call and gives it back; a broken one is
// dropped and the next lease connects anew. Nested leases on one thread get distinct connections.
class PgPool {
 public:
  PgPool(std::string url, std::vector<std::string> settings) : url_(std::move(url)), settings_(std::move(settings)) {}

  class Lease {
   public:
    Lease(PgPool& pool, std::unique_ptr<PgConn> conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    PgConn& operator*() { return *conn_; }
    PgConn* operator->() { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> conn_;
  };

  // A connection. Errors: unavailable when none can be made.
  Result<Lease> lease();

 private:
  void give_back(std::unique_ptr<PgConn> conn);

  std::string url_;
  std::vector<std::string> settings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PgConn>> idle_;
};

// What a caller is told when no connection could be made (`detail`: PgConn::connect's error):
// unavailable, without libpq's words, which name the database's hosts and ports and would reach
// HTTP clients through the caller (OWASP Error Handling: no internals in answers). The words go to
// the log instead, at most every 10 s.
Error pg_unreachable(const Error& detail);

// A connection string with any password replaced by "***", for messages and logs.
std::string redact_pg_url(std::string_view url);

}  // namespace tl
