// libpq, wrapped (see pg_connection.hpp).
#include "eventstore/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <regex>

#include "eventstore/event_log.hpp"

namespace tl {
namespace {

constexpr int kBinary = 1;

// The server's warnings (and notices) on this connection, kept for take_warnings().
void keep_warning(void* arg, const PGresult* r) {
  auto* warnings = static_cast<std::vector<std::string>*>(arg);
  const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity == nullptr || std::string_view(severity) != "WARNING") return;
  if (warnings->size() < 64) warnings->emplace_back(PQresultErrorMessage(r));
}

std::string trimmed(const char* message) {
  std::string s = message == nullptr ? "" : message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// PostgreSQL's binary COPY: a fixed signature, flags and header extension (PostgreSQL 15 docs,
// COPY, "Binary Format").
constexpr std::string_view kCopySignature{"PGCOPY\n\377\r\n\0", 11};

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_be16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

}  // namespace

// ---- PgResult ----

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = other.r_;
    other.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}

int PgResult::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }

bool PgResult::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string_view PgResult::bytes(int row, int col) const {
  return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}

std::int64_t PgResult::int64(int row, int col) const {
  const std::string_view v = bytes(row, col);
  if (v.size() != 8) return 0;
  return static_cast<std::int64_t>(decode_be64(v));
}

// ---- PgParams ----

PgParams& PgParams::bytes(std::string_view value) {
  storage_.emplace_back(value);
  is_null_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(kBinary);
  return *this;
}

PgParams& PgParams::int64(std::int64_t value) { return bytes(encode_be64(static_cast<std::uint64_t>(value))); }

PgParams& PgParams::null() {
  storage_.emplace_back();
  is_null_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(kBinary);
  return *this;
}

const char* const* PgParams::values() const {
  values_.clear();
  for (std::size_t i = 0; i < storage_.size(); ++i) values_.push_back(is_null_[i] ? nullptr : storage_[i].data());
  return values_.data();
}

// ---- PgConn ----

Result<std::unique_ptr<PgConn>> PgConn::connect(const std::string& url, const std::vector<std::string>& settings) {
  // Parsed first: libpq's parse errors quote the offending text, which may be the password.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    return Error::unavailable("The PostgreSQL URL (" + redact_pg_url(url) +
                              ") cannot be parsed (libpq's words are withheld: they may quote the password).");
  }
  std::string password;
  for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  }
  PQconninfoFree(parsed);
  // Keyword defaults first: the URL's own values come later and win (libpq: the last one counts).
  // The timeouts go in the startup packet too: a role's or database's statement_timeout applies to
  // the first statements of a session, and a 1 ms one could cancel the SETs that lift it (seen in
  // the PostgreSQL test under load: "canceling statement due to statement timeout" on SET).
  const char* keys[] = {"keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "options",
                        "dbname",
                        nullptr};
  const char* values[] = {"1",         "5",    "2", "3", "10000", "-c statement_timeout=0 -c lock_timeout=0",
                          url.c_str(), nullptr};
  std::unique_ptr<PgConn> c(new PgConn());
  c->conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c->conn_ == nullptr || PQstatus(c->conn_) != CONNECTION_OK) {
    std::string words = trimmed(c->conn_ ? PQerrorMessage(c->conn_) : "out of memory");
    for (std::size_t at; !password.empty() && (at = words.find(password)) != std::string::npos;) {
      words.replace(at, password.size(), "***");
    }
    return Error::unavailable("PostgreSQL (" + redact_pg_url(url) + ") cannot be reached: " + words);
  }
  PQsetNoticeReceiver(c->conn_, keep_warning, &c->warnings_);
  for (const std::string& sql : settings) {
    if (auto r = c->exec(sql); !r) return r.error();
  }
  return c;
}

PgConn::~PgConn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

namespace {

// Failures of the server or of the session rather than of the statement (PostgreSQL's Appendix A
// classes): connection exceptions (08), operator intervention such as a shutdown or a crash of
// another backend (57), insufficient resources (53), system errors (58), a read-only transaction
// (25006: the session reached a standby or a demoted primary), serialization failure and deadlock
// (40001, 40P01), a lock not available in time (55P03). During a failover the statement may well
// succeed again later: unavailable (503), not a fault of the program (500).
bool transient_sqlstate(std::string_view s) {
  return s.starts_with("08") || s.starts_with("57") || s.starts_with("53") || s.starts_with("58") || s == "25006" ||
         s == "40001" || s == "40P01" || s == "55P03";
}

}  // namespace

Error PgConn::fail(std::string_view what, pg_result* r) {
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  sqlstate_ = state == nullptr ? "" : state;
  std::string message = trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  if (message.empty()) message = trimmed(PQerrorMessage(conn_));
  if (r != nullptr) PQclear(r);
  if (connection_lost()) {
    sqlstate_.clear();
    return Error::unavailable("PostgreSQL connection lost during " + std::string(what) + ": " + message);
  }
  std::string said = "PostgreSQL refused " + std::string(what) + ": " + message +
                     (sqlstate_.empty() ? "" : " (SQLSTATE " + sqlstate_ + ")");
  return transient_sqlstate(sqlstate_) ? Error::unavailable(std::move(said)) : Error::internal(std::move(said));
}

Result<PgResult> PgConn::exec(const std::string& sql, const PgParams& params) {
  sqlstate_.clear();
  PGresult* r = PQexecParams(conn_, sql.c_str(), params.size(), nullptr, params.values(), params.lengths(),
                             params.formats(), kBinary);
  const ExecStatusType status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return fail(sql.substr(0, sql.find_first_of(" (")), r);
  }
  return PgResult(r);
}

Status PgConn::copy_in(const std::string& sql, const std::vector<std::vector<std::string_view>>& rows) {
  sqlstate_.clear();
  PGresult* started = PQexec(conn_, sql.c_str());
  if (started == nullptr || PQresultStatus(started) != PGRES_COPY_IN) return fail("COPY", started);
  PQclear(started);
  std::string data(kCopySignature);
  put_be32(data, 0);  // flags
  put_be32(data, 0);  // header extension length
  for (const auto& row : rows) {
    put_be16(data, static_cast<std::uint16_t>(row.size()));
    for (std::string_view v : row) {
      put_be32(data, static_cast<std::uint32_t>(v.size()));
      data.append(v);
    }
  }
  put_be16(data, 0xffff);  // the trailer
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1) {
    return fail("COPY", nullptr);
  }
  Status outcome;
  while (PGresult* r = PQgetResult(conn_)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      if (outcome) outcome = fail("COPY", r);  // fail() clears r
      continue;
    }
    PQclear(r);
  }
  return outcome;
}

bool PgConn::wait_notification(std::chrono::milliseconds timeout) {
  auto drain = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  if (drain()) return true;
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  if (fd.fd < 0 || ::poll(&fd, 1, static_cast<int>(timeout.count())) <= 0) return false;
  if (PQconsumeInput(conn_) != 1) return false;
  return drain();
}

bool PgConn::connection_lost() const { return PQstatus(conn_) != CONNECTION_OK; }

bool PgConn::in_transaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

int PgConn::backend_pid() const { return PQbackendPID(conn_); }

std::vector<std::string> PgConn::take_warnings() {
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

// ---- PgPool ----

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->give_back(std::move(conn_));
}

Result<PgPool::Lease> PgPool::lease() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
  }
  auto conn = PgConn::connect(url_, settings_);
  if (!conn) return pg_unreachable(conn.error());
  return Lease(*this, std::move(conn).value());
}

Error pg_unreachable(const Error& detail) {
  static std::atomic<std::int64_t> last_logged{std::numeric_limits<std::int64_t>::min() / 2};
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::int64_t last = last_logged.load();
  if (now - last >= 10'000 && last_logged.compare_exchange_strong(last, now)) {
    spdlog::warn("PostgreSQL: {}", detail.message);
  }
  return Error::unavailable("The database cannot be reached; try again in a moment");
}

void PgPool::give_back(std::unique_ptr<PgConn> conn) {
  if (conn->connection_lost()) return;  // the next lease connects anew
  std::lock_guard lock(mutex_);
  if (idle_.size() < 8) idle_.push_back(std::move(conn));
}

std::string redact_pg_url(std::string_view url) {
  // URI form: scheme://user:password@host…; keyword form: password=…
  static const std::regex uri_password(R"(^([a-z]+://[^:/@]*):[^@/]*@)");
  static const std::regex keyword_password(R"((password\s*=\s*)('[^']*'|\S+))");
  std::string out = std::regex_replace(std::string(url), uri_password, "$1:***@");
  return std::regex_replace(out, keyword_password, "$1***");
}

}  // namespace tl
