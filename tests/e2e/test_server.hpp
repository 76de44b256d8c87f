// The real tokenledger binary, started on an ephemeral loopback port with a fresh data
// directory, and the fixture and helpers the end-to-end tests share.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"

namespace e2e {

inline constexpr const char* kAdminPassword = "admin-pass-e2e-0f3a9c";
inline constexpr const char* kIntrospectionSecret = "introspect-secret-e2e-77d1b2";
inline constexpr const char* kMetricsSecret = "metrics-secret-e2e-5c81e0d2a9";

struct StartOptions {
  std::vector<std::string> extra_args;
  // Runs the server under libfaketime with this offset (e.g. "+2d"), by preloading the library
  // into the server itself. (The faketime(1) command forks and waits for its child, so a signal
  // sent to it would not reach the server; hence the preload.)
  std::string fake_time;
  // Like fake_time, but the offset is read from this file at every clock read, so a test can
  // move the server's clock while it runs (write e.g. "+2m" into the file).
  std::string fake_time_file;
  // A command the server is run under; it must exec the server, not fork it (e.g. {"env"}).
  std::vector<std::string> prefix;
};

class TestServer {
 public:
  TestServer();   // makes a fresh temporary directory; does not start the server
  ~TestServer();  // kills a running server, removes the directory
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Starts the server and waits (at most 20 s) for its "listening on" line; throws on failure.
  void start(const StartOptions& options = {});
  // SIGTERM, then waits; SIGKILL after `grace`. Returns the exit status (128 + signal when
  // killed by one); -1 when nothing was running.
  int stop(std::chrono::seconds grace = std::chrono::seconds(10));
  int restart(const StartOptions& options = {});  // stop, then start on the same data directory
  void signal(int sig) const;
  // Waits (bounded) for the process to end by itself; returns its status, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::seconds limit);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // the running server's process id

  unsigned short port() const { return port_; }
  bool tls() const { return !tls_ca_.empty(); }  // started with --tls-cert (it said https://)
  std::string origin() const {
    return (tls() ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& root_dir() const { return root_; }  // the temporary directory holding data_dir()
  std::string log() const;                               // the output of every run so far
  // A client of the running server: HTTPS, trusting its certificate, when it serves HTTPS.
  HttpClient client() const { return HttpClient(port_, std::chrono::seconds(20), {.ca_file = tls_ca_}); }

 private:
  std::string root_;
  std::string data_dir_;
  std::vector<std::string> logs_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::string tls_ca_;  // the certificate file when serving HTTPS
};

// Where libfaketime's preload library is, or "" when it (or the faketime tool) is missing.
std::string faketime_library();

// Writes kMetricsSecret to a 0600 file beside the data directory and returns the options that
// serve /metrics to its bearer; metrics_auth() is the header to send.
std::vector<std::string> metrics_secret_args(const TestServer& server);
inline Headers metrics_auth() { return {{"Authorization", std::string("Bearer ") + kMetricsSecret}}; }

// Every test user's password is derived from the name.
std::string password_of(const std::string& user);
// A JSON string literal for `text` (quoted and escaped).
std::string json_str(std::string_view text);
std::string token_body(std::string_view description, std::int64_t days);

// These throw std::runtime_error (failing the test with the response) when the server does not
// answer as expected.
HttpClient login(const TestServer& server, const std::string& user, const std::string& password);
HttpClient login(const TestServer& server, const std::string& user);
void create_user(HttpClient& admin, const std::string& user, const std::vector<std::string>& groups);
Json create_token(HttpClient& client, std::string_view description = "e2e token", std::int64_t days = 15);
std::string reveal(HttpClient& client, const std::string& id);
// The access events (UserSignedIn, AccessDenied, AuditRead, ServerStarted, …): best effort, queued
// without being awaited, so they land a moment after the answer; API.md's "a request that fails
// appends no domain event" leaves them out. The helpers below count and compare the other events.
bool is_access_event_type(const std::string& type);
// Every event of /api/v1/audit?<query> (filters, without limit or after_seq), in seq order, following
// next_after_seq page by page (at most 1000 pages); throws unless each page answers 200.
std::vector<Json> audit_events(HttpClient& auditor, const std::string& query = "");
// Every event of the trail but the access events, in seq order.
std::vector<Json> domain_events(HttpClient& auditor);
// How many of those there are, once /api/v1/audit/verify says the chain is whole.
std::int64_t audit_event_count(HttpClient& auditor);
// "ok=<bool> events=<n> last=<seq>:<hash>" of the domain events, to compare across restarts (which
// append ServerStopped and ServerStarted).
std::string chain_head(HttpClient& auditor);
// The domain events as "seq type hash" lines, to compare the trail across requests.
std::string domain_trail(HttpClient& auditor);
// /api/v1/audit?limit=1000&<query>'s events once there are at least `at_least` (polled, at most
// 10 s: access events land shortly after the answer), or what there is then.
std::vector<Json> await_events(HttpClient& auditor, const std::string& query, std::size_t at_least);
Response introspect(const TestServer& server, const std::string& code, bool as_form = true,
                    const std::string& secret = kIntrospectionSecret);
std::string describe(const Response& res);  // status and body, for assertion messages
// Milliseconds since the Unix epoch of an RFC 3339 UTC time like 2026-11-27T18:04:14.107Z;
// throws when the text is not in that form.
std::int64_t unix_ms(const std::string& rfc3339);
// Every regular file under `dir` (recursively) except the key files, whose bytes contain `needle`.
std::vector<std::string> files_containing(const std::string& dir, const std::string& needle);

// The standard fixture: a started server, the admin signed in, and three users:
// alice (api-tokens, auditors), bob (no group), carol (api-tokens).
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void sign_in_admin();  // again, e.g. after a restart (sessions live in memory)

  TestServer server;
  std::optional<HttpClient> admin;
};

}  // namespace e2e
