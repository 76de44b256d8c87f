#include "test_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/child_process.hpp"

extern char** environ;

namespace e2e {

using test_support::decode_status;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The test process's environment without anything that would change how the server runs,
// plus the known credentials.
std::vector<std::string> server_environment(const StartOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    if (var.starts_with("TOKENLEDGER_") || var.starts_with("LD_PRELOAD=") || var.starts_with("FAKETIME") ||
        var.starts_with("SPDLOG_")) {
      continue;
    }
    env.emplace_back(var);
  }
  env.push_back(std::string("TOKENLEDGER_ADMIN_PASSWORD=") + kAdminPassword);
  env.push_back(std::string("TOKENLEDGER_INTROSPECTION_SECRET=") + kIntrospectionSecret);
  if (!options.fake_time.empty()) {
    const std::string lib = faketime_library();
    if (lib.empty()) throw std::runtime_error("libfaketime is not installed");
    env.push_back("LD_PRELOAD=" + lib);
    env.push_back("FAKETIME=" + options.fake_time);
    env.push_back("FAKETIME_DONT_FAKE_MONOTONIC=1");  // steady timers keep real time
    env.push_back("NO_FAKE_STAT=1");                  // file times stay real
  } else if (!options.fake_time_file.empty()) {
    const std::string lib = faketime_library();
    if (lib.empty()) throw std::runtime_error("libfaketime is not installed");
    env.push_back("LD_PRELOAD=" + lib);
    env.push_back("FAKETIME_TIMESTAMP_FILE=" + options.fake_time_file);
    env.push_back("FAKETIME_NO_CACHE=1");
    env.push_back("FAKETIME_DONT_FAKE_MONOTONIC=1");
    env.push_back("NO_FAKE_STAT=1");
  }
  return env;
}

}  // namespace

std::string faketime_library() {
  if (::access("/usr/bin/faketime", X_OK) != 0) return {};
  for (const char* path :
       {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1"}) {
    if (::access(path, R_OK) == 0) return path;
  }
  return {};
}

TestServer::TestServer() {
  std::string pattern = (fs::temp_directory_path() / "tokenledger-e2e-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  root_ = pattern;
  data_dir_ = (fs::path(root_) / "data").string();
}

TestServer::~TestServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  const char* keep = std::getenv("TOKENLEDGER_E2E_KEEP");
  if (keep == nullptr || *keep == '\0') {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

void TestServer::start(const StartOptions& options) {
  if (pid_ > 0) throw std::runtime_error("the server is already running");
  const std::string log_path = (fs::path(root_) / ("server-" + std::to_string(logs_.size() + 1) + ".log")).string();
  logs_.push_back(log_path);

  std::vector<std::string> args = options.prefix;
  for (const std::string& a : {std::string(TOKENLEDGER_BIN), std::string("--listen"), std::string("127.0.0.1:0"),
                               std::string("--data"), data_dir_}) {
    args.push_back(a);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<std::string> env = server_environment(options);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // no test sockets leak into the server
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  pid_ = pid;

  static const std::regex kListening(R"(listening on (https?)://127\.0\.0\.1:([0-9]+))");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = read_file(log_path);
    if (std::regex_search(text, m, kListening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[2].str()));
      tls_ca_.clear();
      if (m[1].str() == "https") {  // clients trust the certificate the server was given
        auto cert = std::find(options.extra_args.begin(), options.extra_args.end(), "--tls-cert");
        if (cert == options.extra_args.end() || cert + 1 == options.extra_args.end()) {
          throw std::runtime_error("the server serves HTTPS, but not with a --tls-cert the test gave");
        }
        tls_ca_ = *(cert + 1);
      }
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the server exited (status " + std::to_string(decode_status(status)) +
                               ") before listening; its output:\n" + text);
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  throw std::runtime_error("the server did not say it was listening within 20 s; its output:\n" + read_file(log_path));
}

void TestServer::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> TestServer::wait_exit(std::chrono::seconds limit) {
  if (pid_ <= 0) return std::nullopt;
  auto status = test_support::wait_until(pid_, std::chrono::steady_clock::now() + limit);
  if (status) pid_ = -1;
  return status;
}

int TestServer::stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  if (auto status = wait_exit(grace)) return *status;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return decode_status(status);
}

int TestServer::restart(const StartOptions& options) {
  const int status = stop();
  start(options);
  return status;
}

std::string TestServer::log() const {
  std::string all;
  for (const auto& path : logs_) all += read_file(path);
  return all;
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::vector<std::string> metrics_secret_args(const TestServer& server) {
  const std::string path = (fs::path(server.root_dir()) / "metrics.secret").string();
  {
    std::ofstream out(path, std::ios::trunc);
    out << kMetricsSecret << "\n";
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return {"--metrics-secret-file", path};
}

std::string password_of(const std::string& user) { return "pw-" + user + "-e2e-Secret!"; }

std::string json_str(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string token_body(std::string_view description, std::int64_t days) {
  return R"({"description":)" + json_str(description) + R"(,"timeout":{"value":)" + std::to_string(days) +
         R"(,"unit":"days"}})";
}

std::string describe(const Response& res) { return std::to_string(res.status) + " " + res.body; }

std::int64_t unix_ms(const std::string& text) {
  static const std::regex kTime(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$)");
  std::smatch m;
  if (!std::regex_match(text, m, kTime)) throw std::runtime_error("not an RFC 3339 UTC time with ms: " + text);
  auto n = [&](int i) { return std::stoll(m[i].str()); };
  // Days from the civil date (Howard Hinnant's algorithm).
  std::int64_t y = n(1);
  const std::int64_t mo = n(2), d = n(3);
  y -= mo <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + doe - 719468;
  return ((days * 24 + n(4)) * 60 + n(5)) * 60000 + n(6) * 1000 + n(7);
}

std::vector<std::string> files_containing(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "master.key" || name == "introspection.secret") continue;
    if (read_file(entry.path().string()).find(needle) != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

HttpClient login(const TestServer& server, const std::string& user, const std::string& password) {
  HttpClient client = server.client();
  const Response res =
      client.post("/api/v1/session", R"({"username":)" + json_str(user) + R"(,"password":)" + json_str(password) + "}");
  // Over TLS the session cookie is named __Host-tl_session.
  if (res.status != 200 || (client.cookie("tl_session").empty() && client.cookie("__Host-tl_session").empty())) {
    throw std::runtime_error("login as " + user + " failed: " + describe(res));
  }
  return client;
}

HttpClient login(const TestServer& server, const std::string& user) {
  return login(server, user, user == "admin" ? std::string(kAdminPassword) : password_of(user));
}

void create_user(HttpClient& admin, const std::string& user, const std::vector<std::string>& groups) {
  std::string list;
  for (const auto& g : groups) list += (list.empty() ? "" : ",") + json_str(g);
  const Response res = admin.post("/api/v1/users", R"({"username":)" + json_str(user) + R"(,"password":)" +
                                                       json_str(password_of(user)) + R"(,"groups":[)" + list + "]}");
  if (res.status != 201) throw std::runtime_error("creating user " + user + " failed: " + describe(res));
}

Json create_token(HttpClient& client, std::string_view description, std::int64_t days) {
  const Response res = client.post("/api/v1/tokens", token_body(description, days));
  if (res.status != 201) throw std::runtime_error("creating a token failed: " + describe(res));
  return res.json();
}

std::string reveal(HttpClient& client, const std::string& id) {
  const Response res = client.post("/api/v1/tokens/" + id + "/reveal");
  if (res.status != 200) throw std::runtime_error("revealing " + id + " failed: " + describe(res));
  return res.json()["token"].str();
}

bool is_access_event_type(const std::string& type) {
  static const std::set<std::string> kAccess = {"UserSignedIn", "UserSignInFailed", "SessionEnded",  "AccessDenied",
                                                "AuditRead",    "AuditExported",    "ServerStarted", "ServerStopped"};
  return kAccess.count(type) > 0;
}

std::vector<Json> audit_events(HttpClient& auditor, const std::string& query) {
  std::vector<Json> out;
  std::string after = "0";
  for (int page = 0; page < 1000; ++page) {
    const std::string target =
        "/api/v1/audit?limit=1000&after_seq=" + after + (query.empty() ? std::string() : "&" + query);
    const Response res = auditor.get(target);
    if (res.status != 200) throw std::runtime_error("GET " + target + ": " + describe(res));
    const Json j = res.json();
    for (const Json& e : j["events"].items()) out.push_back(e);
    if (j["next_after_seq"].is_null()) return out;
    after = std::to_string(j["next_after_seq"].integer());
  }
  throw std::runtime_error("the audit trail did not end within 1000 pages");
}

std::vector<Json> domain_events(HttpClient& auditor) {
  std::vector<Json> out = audit_events(auditor);
  std::erase_if(out, [](const Json& e) { return is_access_event_type(e["type"].str()); });
  return out;
}

std::int64_t audit_event_count(HttpClient& auditor) {
  const Response res = auditor.get("/api/v1/audit/verify");
  if (res.status != 200) throw std::runtime_error("audit verify failed: " + describe(res));
  if (!res.json()["ok"].boolean()) throw std::runtime_error("the audit chain does not verify: " + res.body);
  return static_cast<std::int64_t>(domain_events(auditor).size());
}

std::string chain_head(HttpClient& auditor) {
  const Response res = auditor.get("/api/v1/audit/verify");
  if (res.status != 200) throw std::runtime_error("audit verify failed: " + describe(res));
  const Json j = res.json();
  const std::vector<Json> events = domain_events(auditor);
  std::string last = "none";
  if (!events.empty()) last = std::to_string(events.back()["seq"].integer()) + ":" + events.back()["hash"].str();
  return std::string("ok=") + (j["ok"].boolean() ? "true" : "false") + " events=" + std::to_string(events.size()) +
         " last=" + last;
}

std::string domain_trail(HttpClient& auditor) {
  std::string out;
  for (const Json& e : domain_events(auditor)) {
    out += std::to_string(e["seq"].integer()) + " " + e["type"].str() + " " + e["hash"].str() + "\n";
  }
  return out;
}

std::vector<Json> await_events(HttpClient& auditor, const std::string& query, std::size_t at_least) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<Json> events;
  while (true) {
    const Response res = auditor.get("/api/v1/audit?limit=1000&" + query);
    if (res.status != 200) throw std::runtime_error("GET /api/v1/audit?" + query + ": " + describe(res));
    events = res.json()["events"].items();
    if (events.size() >= at_least || std::chrono::steady_clock::now() > deadline) return events;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Response introspect(const TestServer& server, const std::string& code, bool as_form, const std::string& secret) {
  HttpClient client = server.client();
  Headers headers;
  if (!secret.empty()) headers.emplace_back("Authorization", "Bearer " + secret);
  if (as_form) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return client.post("/api/v1/introspect", "token=" + url_encode(code), headers);
  }
  return client.post("/api/v1/introspect", R"({"token":)" + json_str(code) + "}", headers);
}

void ServerTest::SetUp() {
  server.start();
  sign_in_admin();
  create_user(*admin, "alice", {"api-tokens", "auditors"});
  create_user(*admin, "bob", {});
  create_user(*admin, "carol", {"api-tokens"});
}

void ServerTest::sign_in_admin() { admin.emplace(login(server, "admin")); }

}  // namespace e2e
