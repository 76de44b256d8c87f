// Expiry warnings by webhook, end to end: the real server posts to a receiver on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "test_server.hpp"

namespace e2e {
namespace {

// A minimal HTTP receiver: answers each POST with `fail_first` 500s, then 204s, and keeps
// every request it got. One connection at a time, which is all the server's client uses.
class Receiver {
 public:
  explicit Receiver(int fail_first) : fail_first_(fail_first) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  unsigned short port() const { return port_; }
  int attempts() const { return attempts_.load(); }
  // Waits (at most `limit`) until `n` requests were accepted with 204; returns them.
  std::vector<std::string> wait_delivered(std::size_t n, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, limit, [&] { return delivered_.size() >= n; });
    return delivered_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      timeval tv{5, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string request;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (request.size() < need) {
        const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
        const auto end = request.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          const auto cl = request.find("Content-Length: ");
          need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(request.substr(cl + 16)));
        }
      }
      const bool fail = ++attempts_ <= fail_first_;
      const std::string answer =
          fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
               : "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(conn);
      if (!fail) {
        std::lock_guard lock(mutex_);
        delivered_.push_back(request);
        cv_.notify_all();
      }
    }
  }

  int fd_ = -1;
  unsigned short port_ = 0;
  int fail_first_;
  std::atomic<int> attempts_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> delivered_;
};

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

std::string body_of(const std::string& request) { return request.substr(request.find("\r\n\r\n") + 4); }

std::string header_of(const std::string& request, const std::string& name) {
  const auto at = request.find(name + ": ");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 2;
  return request.substr(start, request.find("\r\n", start) - start);
}

TEST(WebhookE2E, ExpiryNoticesAreSignedRetriedRecordedAndSentOnce) {
  ASSERT_EQ(sodium_init() >= 0, true);
  Receiver receiver(/*fail_first=*/2);
  TestServer server;
  std::vector<std::string> args = {
      "--webhook-url",         "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook",
      "--expiry-scan-seconds", "1",
      "--webhook-backoff-ms",  "50"};
  for (const std::string& a : metrics_secret_args(server)) args.push_back(a);
  server.start({.extra_args = args});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string soon = create_token(alice, "expires soon", 3)["id"].str();
  create_token(alice, "expires later", 90);

  auto delivered = receiver.wait_delivered(1, std::chrono::seconds(20));
  ASSERT_EQ(delivered.size(), 1u) << server.log();
  EXPECT_EQ(receiver.attempts(), 3) << "two 500s, then delivered on the third attempt";
  const std::string body = body_of(delivered[0]);
  EXPECT_NE(body.find(R"("window":"7d")"), std::string::npos) << body;
  EXPECT_NE(body.find(soon), std::string::npos) << body;
  EXPECT_EQ(body.find("expires later"), std::string::npos) << "only the token in its last 7 days";
  std::ifstream secret_file(server.data_dir() + "/webhook.secret");
  std::string secret;
  std::getline(secret_file, secret);
  EXPECT_EQ(header_of(delivered[0], "X-Tokenledger-Signature"), "sha256=" + hmac_hex(secret, body));

  // Recorded as an audited event (right after the delivery), counted in /metrics, and not sent again.
  Response audit = alice.get("/api/v1/audit?type=TokenExpiryNotified");
  for (int i = 0; i < 100 && audit.json()["events"].size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    audit = alice.get("/api/v1/audit?type=TokenExpiryNotified");
  }
  ASSERT_EQ(audit.status, 200);
  const Json events = audit.json()["events"];
  ASSERT_EQ(events.size(), 1u) << audit.body;
  EXPECT_EQ(events[0]["token_id"].str(), soon);
  EXPECT_EQ(events[0]["data"]["window"].str(), "7d");
  EXPECT_TRUE(events[0]["data"]["delivered"].boolean());
  EXPECT_NE(
      alice.get("/metrics", metrics_auth()).body.find(R"(tokenledger_webhook_deliveries_total{outcome="delivered"} 1)"),
      std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more scans
  EXPECT_EQ(receiver.wait_delivered(2, std::chrono::seconds(0)).size(), 1u);

  // Four days on, the token has expired: that notice comes once, even after a restart.
  server.restart({.extra_args = args, .fake_time = faketime_library().empty() ? "" : "+4d"});
  if (faketime_library().empty()) GTEST_SKIP() << "faketime is not installed";
  delivered = receiver.wait_delivered(2, std::chrono::seconds(20));
  ASSERT_EQ(delivered.size(), 2u) << server.log();
  EXPECT_NE(body_of(delivered[1]).find(R"("event":"token.expired")"), std::string::npos) << body_of(delivered[1]);
}

// Witnesses (issue 11): every signed checkpoint goes to the witness file (one fsynced JSON line
// naming the public key) and to the witness URL; one that cannot be written is retried at the
// next checkpoint, named in /readyz and counted in /metrics, and serving goes on.
TEST(WitnessE2E, EveryCheckpointReachesTheWitnessesAndAFailingOneIsRetried) {
  Receiver receiver(/*fail_first=*/1);
  TestServer server;
  const std::string witness = server.root_dir() + "/later/witness.jsonl";  // its folder is not there yet
  std::vector<std::string> args = {
      "--witness-file",       witness,
      "--witness-url",        "http://127.0.0.1:" + std::to_string(receiver.port()) + "/witness",
      "--checkpoint-seconds", "1"};
  for (const std::string& a : metrics_secret_args(server)) args.push_back(a);
  server.start({.extra_args = args});
  HttpClient admin = login(server, "admin", kAdminPassword);
  ASSERT_EQ(receiver.wait_delivered(1, std::chrono::seconds(20)).size(), 1u) << server.log();
  Response ready = server.client().get("/readyz");
  EXPECT_EQ(ready.status, 200) << "a witness that fails does not stop serving";
  // The one signed at start, and any the timer signed since over the server's access events.
  const double pending = ready.json()["witness"]["pending"].num();
  EXPECT_GE(pending, 1) << ready.body;
  EXPECT_NE(ready.json()["witness"]["last_error"].str().find(witness), std::string::npos) << ready.body;
  const std::string metrics = admin.get("/metrics", metrics_auth()).body;
  EXPECT_NE(metrics.find("tokenledger_witness_pending "), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("tokenledger_witness_pending 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("tokenledger_witness_failures_total 0"), std::string::npos) << metrics;

  std::filesystem::create_directories(server.root_dir() + "/later");
  create_user(admin, "alice", {"auditors"});  // the log grows: the next checkpoint is signed
  for (int i = 0; i < 100 && server.client().get("/readyz").json().has("witness"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(server.client().get("/readyz").json().has("witness")) << "retried and delivered";
  const Json checkpoints = login(server, "alice").get("/api/v1/audit/checkpoints").json();
  // The stop appends ServerStopped, so it signs (and witnesses) one more checkpoint over it.
  ASSERT_EQ(server.stop(), 0);
  std::ifstream in(witness);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 2u) << "the one signed at start (retried) and the one after the new user";
  // In order, the same checkpoints the server lists, then the one signed at the stop.
  ASSERT_EQ(lines.size(), checkpoints["checkpoints"].size() + 1);
  EXPECT_GT(Json::parse(lines.back())["seq"].num(), checkpoints["checkpoints"].items().back()["seq"].num());
  for (std::size_t i = 0; i < checkpoints["checkpoints"].size(); ++i) {
    EXPECT_EQ(Json::parse(lines[i])["seq"].num(), checkpoints["checkpoints"][i]["seq"].num()) << lines[i];
    EXPECT_EQ(Json::parse(lines[i])["signature"].str(), checkpoints["checkpoints"][i]["signature"].str());
  }
  for (const auto& line : lines) {
    const Json c = Json::parse(line);
    EXPECT_EQ(c["public_key"].str(), checkpoints["public_key"].str());
    EXPECT_TRUE(c.has("signature") && c.has("seq") && c.has("hash")) << line;
  }
  const auto posted = receiver.wait_delivered(lines.size(), std::chrono::seconds(5));
  ASSERT_EQ(posted.size(), lines.size()) << "the URL got the same checkpoints";
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(body_of(posted[i]), lines[i]);
}

TEST(WitnessE2E, CheckpointSecondsAndMinutesExcludeEachOther) {
  TestServer server;
  try {
    server.start({.extra_args = {"--checkpoint-seconds", "30", "--checkpoint-minutes", "1"}});
    server.stop();
    ADD_FAILURE() << "the server started with both";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("not both"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace e2e
