// The sign-in throttle and the bound on concurrent password hashes, against the real binary:
// parallel guesses cannot outrun the count, memory stays bounded, an attacker's guesses from
// elsewhere do not lock the user out, and Retry-After tells the truth.
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

// The pid of the server whose command line names `data_dir`, or -1.
int server_pid(const std::string& data_dir) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in("/proc/" + name + "/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(data_dir) != std::string::npos && cmdline.find("tokenledger") != std::string::npos) {
      found = std::stoi(name);
    }
  }
  closedir(proc);
  return found;
}

// Peak resident memory (VmHWM) of `pid` in MiB, or -1.
long peak_rss_mib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

std::string login_body(const std::string& user, const std::string& password) {
  return R"({"username":)" + json_str(user) + R"(,"password":)" + json_str(password) + "}";
}

// One sign-in over a fresh connection from the loopback address `from` (127.0.0.2 stands for
// another client); returns the status line's code and the Retry-After value.
std::pair<int, std::string> sign_in_from(const TestServer& server, const std::string& from, const std::string& body) {
  RawClient conn(server.port(), from.c_str());
  const std::string request =
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  (void)conn.send(request);
  bool closed = false;
  const std::string answer = conn.read_until_closed(std::chrono::seconds(60), closed);
  if (answer.size() < 12) throw std::runtime_error("no answer: " + answer);
  std::string retry_after;
  std::istringstream lines(answer);
  for (std::string line; std::getline(lines, line);) {
    for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (line.rfind("retry-after:", 0) == 0) retry_after = line.substr(12, line.find_last_not_of("\r ") - 11);
  }
  return {std::stoi(answer.substr(9, 3)), retry_after};
}

struct Tally {
  std::mutex mutex;
  std::map<int, int> by_status;
  std::vector<std::string> retry_afters;
};

// `count` sign-ins at once, each on its own connection.
void sign_in_in_parallel(const TestServer& server, int count, const std::function<std::string(int)>& body_of,
                         Tally& tally) {
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client = server.client();
      while (!go) std::this_thread::yield();
      const Response res = client.post("/api/v1/session", body_of(i));
      std::lock_guard lock(tally.mutex);
      ++tally.by_status[res.status];
      if (res.status == 429 || res.status == 503) tally.retry_afters.push_back(res.header("retry-after"));
    });
  }
  go = true;
  for (auto& t : threads) t.join();
}

class SignInThrottleE2E : public ServerTest {};

TEST_F(SignInThrottleE2E, ParallelWrongPasswordsForOneUserCheckOnlyTheLimit) {
  Tally tally;
  sign_in_in_parallel(
      server, 64, [](int) { return login_body("alice", "wrong-guess-123456"); }, tally);
  // Exactly the limit's 5 guesses get a check (401, or 503 when no hash slot came free in time);
  // the other 59 are refused before any hash.
  EXPECT_EQ(tally.by_status[429], 59);
  EXPECT_EQ(tally.by_status[401] + tally.by_status[503], 5);
  EXPECT_GE(tally.by_status[401], 1);
  for (const auto& retry : tally.retry_afters) {
    ASSERT_FALSE(retry.empty());
    EXPECT_GE(std::stoi(retry), 1);
    EXPECT_LE(std::stoi(retry), 300);
  }
  // The real user, from the same address, waits like the attacker; the right password is refused
  // too (it is not checked) until the window passes.
  EXPECT_EQ(HttpClient(server.port()).post("/api/v1/session", login_body("alice", password_of("alice"))).status, 429);
}

TEST_F(SignInThrottleE2E, ParallelSignInsKeepMemoryBounded) {
  const int pid = server_pid(server.data_dir());
  ASSERT_GT(pid, 0);
  Tally tally;
  // Unknown users also cost a full hash (so that timing does not tell who exists).
  sign_in_in_parallel(
      server, 64, [](int i) { return login_body("nobody" + std::to_string(i), "wrong-guess-123456"); }, tally);
  EXPECT_EQ(tally.by_status[429], 44) << "the address's budget is 20";
  EXPECT_EQ(tally.by_status[401] + tally.by_status[503], 20);
  const long peak = peak_rss_mib(pid);
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, 600) << "MiB at peak: each Argon2id check takes 64 MiB";
}

TEST_F(SignInThrottleE2E, GuessesFromElsewhereDoNotLockTheUserOut) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(sign_in_from(server, "127.0.0.2", login_body("alice", "wrong-guess-123456")).first, 401);
  }
  const auto refused = sign_in_from(server, "127.0.0.2", login_body("alice", "wrong-guess-123456"));
  EXPECT_EQ(refused.first, 429);
  EXPECT_FALSE(refused.second.empty()) << "Retry-After";
  EXPECT_EQ(sign_in_from(server, "127.0.0.1", login_body("alice", password_of("alice"))).first, 200)
      << "her own address still signs in";
}

TEST_F(SignInThrottleE2E, OverlongUserNamesAreRefusedBeforeAnything) {
  HttpClient client(server.port());
  const Response res = client.post("/api/v1/session", login_body(std::string(60'000, 'x'), "wrong-guess-123456"));
  EXPECT_EQ(res.status, 400) << describe(res);
  EXPECT_EQ(res.error_code(), "invalid_field");
  EXPECT_NE(res.body.find("username"), std::string::npos) << res.body;
}

TEST(SignInThrottleClockE2E, RetryAfterIsTruthful) {
  if (faketime_library().empty()) GTEST_SKIP() << "faketime is not installed";
  TestServer server;
  const std::string clock = server.data_dir() + "/../clock";
  std::ofstream(clock) << "+0\n";
  server.start({.fake_time_file = clock});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens"});
  HttpClient client(server.port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client.post("/api/v1/session", login_body("alice", "wrong-guess-123456")).status, 401);
  }
  // 100 s into the 300 s window, the answer says about 200 s (a fixed "300" would lie).
  std::ofstream(clock, std::ios::trunc) << "+100\n";
  const Response refused = client.post("/api/v1/session", login_body("alice", password_of("alice")));
  ASSERT_EQ(refused.status, 429) << describe(refused);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  const int wait = std::stoi(refused.header("retry-after"));
  EXPECT_GT(wait, 150);
  EXPECT_LE(wait, 201);
  std::ofstream(clock, std::ios::trunc) << "+" << (100 + wait - 30) << "\n";
  EXPECT_EQ(client.post("/api/v1/session", login_body("alice", password_of("alice"))).status, 429) << "not yet";
  std::ofstream(clock, std::ios::trunc) << "+" << (100 + wait + 2) << "\n";
  const Response ok = client.post("/api/v1/session", login_body("alice", password_of("alice")));
  EXPECT_EQ(ok.status, 200) << describe(ok);
}

}  // namespace
}  // namespace e2e
