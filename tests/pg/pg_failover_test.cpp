// Failover, the fast variant for CI (issue 19, item 6): a primary with one synchronous standby,
// two tokenledger nodes writing through both, `kill -9` of the primary at a random moment,
// `pg_ctl promote` of the standby (what Patroni decides; tests/cluster/ runs the Patroni variant),
// then: every acknowledged write present exactly once, the chain whole across the failover, both
// nodes and a freshly started third one agree, and the write outage measured.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "e2e/test_server.hpp"
#include "eventstore/pg_connection.hpp"
#include "pg/pg_instance.hpp"

namespace e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void copy_keys(const TestServer& from, const TestServer& to) {
  fs::create_directories(to.data_dir());
  fs::permissions(to.data_dir(), fs::perms::owner_all, fs::perm_options::replace);
  for (const char* name : {"master.key", "signing.key", "introspection.secret"}) {
    if (!fs::exists(fs::path(from.data_dir()) / name)) continue;
    fs::copy_file(fs::path(from.data_dir()) / name, fs::path(to.data_dir()) / name,
                  fs::copy_options::overwrite_existing);
  }
}

std::int64_t scalar(tl::PgConn& conn, const std::string& sql) { return conn.exec(sql).value().int64(0, 0); }

// The sorted "id description" lines of alice's tokens as `server` has them.
std::string token_lines(const TestServer& server) {
  HttpClient alice = login(server, "alice");
  const Response list = alice.get("/api/v1/tokens");
  if (list.status != 200) return describe(list);
  std::set<std::string> lines;
  const Json body = list.json();
  for (const Json& t : body["tokens"].items()) lines.insert(t["id"].str() + " " + t["description"].str());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(PgFailoverTest, AKilledPrimaryLosesNoAcknowledgedWrite) {
  auto primary = tl::testing::PgInstance::start();
  auto standby = primary->start_standby();
  primary->admin("ALTER SYSTEM SET synchronous_standby_names = '*'");
  primary->admin("SELECT pg_reload_conf()");
  const std::string on_primary = primary->new_database();  // replicated to the standby
  const std::string db = on_primary.substr(on_primary.rfind('/') + 1);
  {
    auto conn = tl::PgConn::connect(on_primary, {}).value();
    bool sync = false;
    for (int i = 0; i < 100 && !sync; ++i) {
      sync = scalar(*conn, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1;
      if (!sync) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(sync) << "the standby never became synchronous";
  }
  // Both hosts; libpq finds the one that takes writes. After the promotion the new primary has
  // no standby of its own: --pg-allow-async lets the test go on writing there (the Patroni variant
  // keeps strict synchronous mode).
  const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(primary->port()) +
                          ",127.0.0.1:" + std::to_string(standby->port()) + "/" + db +
                          "?target_session_attrs=read-write&connect_timeout=2";
  const StartOptions options{.extra_args = {"--log", url, "--pg-allow-async"}};
  TestServer one, two;
  one.start(options);
  copy_keys(one, two);
  two.start(options);
  {
    HttpClient admin = login(one, "admin", kAdminPassword);
    create_user(admin, "alice", {"api-tokens", "auditors"});
  }
  // Four writers, two through each node, each editing its own token: an edit's description is
  // unique, so each acknowledged one can be looked for in the log.
  struct Writer {
    const TestServer* node;
    std::string token;
    std::vector<std::string> acknowledged;
    std::vector<std::string> refused;
  };
  std::vector<Writer> writers;
  for (int w = 0; w < 4; ++w) {
    const TestServer& node = w % 2 == 0 ? one : two;
    std::optional<HttpClient> alice;
    for (int i = 0; i < 100 && !alice; ++i) {
      try {
        alice.emplace(login(node, "alice"));
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // node 2 folds alice shortly
      }
    }
    ASSERT_TRUE(alice);
    writers.push_back({&node, create_token(*alice, "writer " + std::to_string(w))["id"].str(), {}, {}});
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> killed{false};
  std::mutex first_after_mutex;
  std::optional<Clock::time_point> kill_at, first_success_after;
  std::vector<std::thread> threads;
  // Every writer stops and is joined however the test leaves this scope (a failed step throws).
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop.store(true);
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_all{stop, threads};
  for (std::size_t w = 0; w < writers.size(); ++w) {
    threads.emplace_back([&, w] {
      Writer& me = writers[w];
      HttpClient alice = login(*me.node, "alice");
      for (int n = 0; n < 100000 && !stop.load(); ++n) {
        const std::string description = "w" + std::to_string(w) + "-" + std::to_string(n);
        const bool after_kill = killed.load();
        const Response r = alice.patch("/api/v1/tokens/" + me.token, "{\"description\":\"" + description + "\"}");
        if (r.status == 200) {
          me.acknowledged.push_back(description);
          if (after_kill) {
            std::lock_guard lock(first_after_mutex);
            if (!first_success_after) first_success_after = Clock::now();
          }
        } else {
          me.refused.push_back(description);
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  std::mt19937 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 + random() % 2000));
  kill_at = Clock::now();
  primary->kill();
  killed.store(true);  // a write counts as after the kill once it was sent after every process was gone
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // what a failover decision takes, at least
  standby->promote();
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(first_after_mutex);
      if (first_success_after && Clock::now() - *first_success_after > std::chrono::seconds(2)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  threads.clear();

  ASSERT_TRUE(first_success_after) << "no write succeeded after the failover\n" << one.log();
  const auto outage = std::chrono::duration_cast<std::chrono::milliseconds>(*first_success_after - *kill_at);
  std::size_t acknowledged = 0, refused = 0;
  auto conn =
      tl::PgConn::connect("postgresql://postgres@127.0.0.1:" + std::to_string(standby->port()) + "/" + db, {}).value();
  for (const Writer& w : writers) {
    acknowledged += w.acknowledged.size();
    refused += w.refused.size();
    for (const std::string& d : w.acknowledged) {
      EXPECT_EQ(scalar(*conn, "SELECT count(*) FROM tl_events WHERE position('\"description\":\"" + d +
                                  "\"'::bytea in record) > 0"),
                1)
          << d << " was acknowledged";
    }
  }
  std::cout << "failover: " << acknowledged << " writes acknowledged, " << refused
            << " refused; write outage after kill -9 " << outage.count() << " ms\n";
  EXPECT_GT(acknowledged, 0u);
  // The chain is whole across the failover, and the nodes agree with a node that folds it anew.
  HttpClient auditor = login(one, "alice");
  const Response verified = auditor.get("/api/v1/audit/verify?full=true");
  ASSERT_EQ(verified.status, 200) << describe(verified);
  EXPECT_TRUE(verified.json()["ok"].boolean()) << verified.body;
  TestServer fresh;
  copy_keys(one, fresh);
  fresh.start(options);
  const std::string expected = token_lines(fresh);
  EXPECT_EQ(token_lines(one), expected);
  EXPECT_EQ(token_lines(two), expected);
  // One statement: the nodes still append best-effort access events (sign-ins, ServerStarted), so a
  // count and a max read by two statements may see two different logs.
  EXPECT_EQ(scalar(*conn, "SELECT max(seq) - count(*) FROM tl_events"), 0) << "a gap or a repeated seq";
}

}  // namespace
}  // namespace e2e
