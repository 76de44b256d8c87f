// End to end: an open audit stream is held to the access it was opened with (issue 12, case 2).
// It ends within a second or so of its session ending (sign-out, expiry, the user's sessions
// removed), its token being deleted or expiring, its user leaving `auditors`, or its user being
// deleted; and one user holds at most --max-streams-per-user streams (default 4).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

#include "test_server.hpp"

namespace e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// GET /api/v1/audit/stream on a raw socket, held open until destroyed.
class OpenStream {
 public:
  // `credential` is a full header line: "Cookie: tl_session=…" or "Authorization: Bearer …".
  OpenStream(unsigned short port, const std::string& credential) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
    const std::string req = "GET /api/v1/audit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
                            credential + "\r\n\r\n";
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
    const auto deadline = steady_clock::now() + std::chrono::seconds(10);
    while (head_.find("\r\n\r\n") == std::string::npos && steady_clock::now() < deadline) {
      if (read_some() == 0) break;
    }
    if (head_.size() < 12 || !head_.starts_with("HTTP/1.1 ")) throw std::runtime_error("no status line: " + head_);
    status_ = std::stoi(head_.substr(9, 3));
  }
  ~OpenStream() { close(); }
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

  int status() const { return status_; }
  const std::string& received() const { return head_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Whether the server ends the stream (closes the connection) within `limit`.
  bool ends_within(milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      if (read_some() == 0) return true;
    }
    return false;
  }

 private:
  // 0: the connection ended; otherwise bytes read, or -1 when nothing came within 100 ms.
  ssize_t read_some() {
    char buf[8192];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) head_.append(buf, static_cast<std::size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return 0;  // reset
    return n;
  }

  int fd_;
  int status_ = 0;
  std::string head_;
};

constexpr milliseconds kEnds{2000};   // the server re-checks at least every 250 ms
constexpr milliseconds kStays{1000};  // a stream whose access stands stays open meanwhile

std::string cookie_of(const HttpClient& client) { return "Cookie: tl_session=" + client.cookie("tl_session"); }

class StreamAccessE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    create_user(*admin, "aud", {"auditors"});  // a bystander whose stream must stay open
  }
  std::string bearer_of(HttpClient& owner) {
    return "Authorization: Bearer " + reveal(owner, create_token(owner, "stream reader")["id"].str());
  }
};

TEST_F(StreamAccessE2E, SignOutEndsTheSessionsStream) {
  HttpClient alice = login(server, "alice");
  HttpClient aud = login(server, "aud");
  OpenStream stream(server.port(), cookie_of(alice));
  OpenStream bystander(server.port(), cookie_of(aud));
  ASSERT_EQ(stream.status(), 200) << stream.received();
  ASSERT_EQ(bystander.status(), 200) << bystander.received();
  EXPECT_FALSE(stream.ends_within(kStays)) << "open while the session stands";

  ASSERT_EQ(alice.del("/api/v1/session").status, 204);
  EXPECT_TRUE(stream.ends_within(kEnds)) << "the stream outlived its session";
  EXPECT_FALSE(bystander.ends_within(kStays)) << "another user's stream is not touched";
}

TEST_F(StreamAccessE2E, RemovingTheUsersSessionsEndsTheStream) {
  HttpClient alice = login(server, "alice");
  OpenStream stream(server.port(), cookie_of(alice));
  ASSERT_EQ(stream.status(), 200) << stream.received();
  // An admin setting the password ends the user's sessions.
  const Response reset = admin->patch("/api/v1/users/alice", R"({"password":"Zq8-vLm3-Pt7x-Rw2k-Hn5"})");
  ASSERT_EQ(reset.status, 200) << describe(reset);
  EXPECT_TRUE(stream.ends_within(kEnds)) << "the stream outlived the user's sessions";
}

TEST_F(StreamAccessE2E, DeletingTheTokenEndsItsStream) {
  HttpClient alice = login(server, "alice");
  const Json token = create_token(alice, "stream reader");
  OpenStream stream(server.port(), "Authorization: Bearer " + reveal(alice, token["id"].str()));
  OpenStream by_session(server.port(), cookie_of(alice));
  ASSERT_EQ(stream.status(), 200) << stream.received();
  ASSERT_EQ(by_session.status(), 200) << by_session.received();
  EXPECT_FALSE(stream.ends_within(kStays)) << "open while the token is active";

  ASSERT_EQ(alice.del("/api/v1/tokens/" + token["id"].str()).status, 204);
  EXPECT_TRUE(stream.ends_within(kEnds)) << "the stream outlived its token";
  EXPECT_FALSE(by_session.ends_within(kStays)) << "the owner's own session stream goes on";
}

TEST_F(StreamAccessE2E, LeavingAuditorsEndsEveryStreamOfTheUser) {
  HttpClient alice = login(server, "alice");
  HttpClient aud = login(server, "aud");
  OpenStream by_session(server.port(), cookie_of(alice));
  OpenStream by_token(server.port(), bearer_of(alice));
  OpenStream bystander(server.port(), cookie_of(aud));
  ASSERT_EQ(by_session.status(), 200) << by_session.received();
  ASSERT_EQ(by_token.status(), 200) << by_token.received();

  const Response moved = admin->patch("/api/v1/users/alice", R"({"groups":["api-tokens"]})");
  ASSERT_EQ(moved.status, 200) << describe(moved);
  EXPECT_TRUE(by_session.ends_within(kEnds)) << "a session's stream outlived the auditors membership";
  EXPECT_TRUE(by_token.ends_within(kEnds)) << "a token's stream outlived the auditors membership";
  EXPECT_FALSE(bystander.ends_within(kStays));
}

TEST_F(StreamAccessE2E, DeletingTheUserEndsEveryStreamOfTheUser) {
  HttpClient alice = login(server, "alice");
  OpenStream by_session(server.port(), cookie_of(alice));
  OpenStream by_token(server.port(), bearer_of(alice));
  ASSERT_EQ(by_session.status(), 200) << by_session.received();
  ASSERT_EQ(by_token.status(), 200) << by_token.received();

  const Response deleted = admin->del("/api/v1/users/alice");
  ASSERT_EQ(deleted.status, 204) << describe(deleted);
  EXPECT_TRUE(by_session.ends_within(kEnds)) << "a session's stream outlived its user";
  EXPECT_TRUE(by_token.ends_within(kEnds)) << "a token's stream outlived its user";
}

void set_clock(const std::string& file, const std::string& offset) {
  std::ofstream out(file, std::ios::trunc);
  out << offset << "\n";
}

// Expiry, by moving the server's clock: the session's idle time (30 min by default), then the
// token's lifetime. Neither stream extends what it holds by being open.
TEST(StreamExpiryE2E, SessionAndTokenExpiryEndTheirStreams) {
  if (faketime_library().empty()) GTEST_SKIP() << "faketime is not installed";
  TestServer server;
  const std::string clock = server.data_dir() + "/../clock";
  set_clock(clock, "+0");
  server.start({.fake_time_file = clock});
  HttpClient admin = login(server, "admin");
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string code = reveal(alice, create_token(alice, "short", 2)["id"].str());
  OpenStream by_session(server.port(), cookie_of(alice));
  OpenStream by_token(server.port(), "Authorization: Bearer " + code);
  ASSERT_EQ(by_session.status(), 200) << by_session.received();
  ASSERT_EQ(by_token.status(), 200) << by_token.received();

  set_clock(clock, "+31m");
  EXPECT_TRUE(by_session.ends_within(kEnds)) << "the stream kept an idle session alive";
  EXPECT_FALSE(by_token.ends_within(kStays)) << "the token has not expired";

  set_clock(clock, "+3d");
  EXPECT_TRUE(by_token.ends_within(kEnds)) << "the stream outlived its token's expiry";
}

TEST_F(StreamAccessE2E, OneUserHoldsAtMostFourStreams) {
  HttpClient alice = login(server, "alice");
  const std::string code = bearer_of(alice);
  std::vector<std::unique_ptr<OpenStream>> held;
  for (int i = 0; i < 4; ++i) {
    // Sessions and tokens of the user count together.
    held.push_back(std::make_unique<OpenStream>(server.port(), i % 2 == 0 ? cookie_of(alice) : code));
    ASSERT_EQ(held.back()->status(), 200) << i << ": " << held.back()->received();
  }
  const Response fifth = alice.get("/api/v1/audit/stream");
  EXPECT_EQ(fifth.status, 429) << describe(fifth);
  EXPECT_EQ(fifth.error_code(), "rate_limited");
  EXPECT_FALSE(fifth.header("retry-after").empty()) << describe(fifth);
  HttpClient aud = login(server, "aud");
  OpenStream other(server.port(), cookie_of(aud));
  EXPECT_EQ(other.status(), 200) << "the cap is per user: " << other.received();

  // Closing one gives its slot back (the server sees the client leave between events).
  held.front()->close();
  const auto deadline = steady_clock::now() + kEnds;
  int status = 0;
  while (steady_clock::now() < deadline) {
    auto again = std::make_unique<OpenStream>(server.port(), cookie_of(alice));
    status = again->status();
    if (status == 200) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 200) << "a closed stream did not free its slot";
}

// One AuditRead per stream, when it is opened (issue 18), however long it runs and whatever it sends.
TEST_F(StreamAccessE2E, AStreamIsOneAuditReadWhenOpened) {
  HttpClient alice = login(server, "alice");
  {
    OpenStream stream(server.port(), cookie_of(alice));
    ASSERT_EQ(stream.status(), 200) << stream.received();
    create_token(alice, "while streaming", 5);
    std::this_thread::sleep_for(milliseconds(300));
  }
  const std::vector<Json> reads = await_events(alice, "type=AuditRead", 1);
  std::size_t streams = 0;
  for (const Json& r : reads) {
    if (r["data"]["route"].str() == "/api/v1/audit/stream") {
      ++streams;
      EXPECT_EQ(r["data"]["filters"].str(), "");
      EXPECT_EQ(r["actor"]["user"].str(), "alice");
    }
  }
  EXPECT_EQ(streams, 1u);
}

TEST(StreamCapE2E, TheCapIsAnOption) {
  TestServer server;
  server.start({.extra_args = {"--max-streams-per-user", "1"}});
  HttpClient admin = login(server, "admin");
  create_user(admin, "alice", {"auditors"});
  HttpClient alice = login(server, "alice");
  OpenStream first_of_alice(server.port(), cookie_of(alice));
  ASSERT_EQ(first_of_alice.status(), 200) << first_of_alice.received();
  const Response second = alice.get("/api/v1/audit/stream");
  EXPECT_EQ(second.status, 429) << describe(second);
}

}  // namespace
}  // namespace e2e
