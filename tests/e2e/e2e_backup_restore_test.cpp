// Issue 16, "Done means": a backup taken through the HTTP API under a write load restores
// (offline, tokenledger-admin restore) to the head the backup reported, verifies, and replays to
// the same projections as the original log at that head; a server started on the copy serves it.
#include <atomic>
#include <filesystem>
#include <thread>

#include "e2e_backup_support.hpp"
#include "test_server.hpp"

namespace fs = std::filesystem;

namespace e2e {
namespace {

// Four writers, each creating, editing and revealing its own tokens over HTTP until told to
// stop (at most `kRounds` rounds each, so the load is bounded).
class WriteLoad {
 public:
  static constexpr int kRounds = 200;
  WriteLoad(const TestServer& server, const std::vector<std::string>& users) {
    for (const auto& user : users) {
      writers_.emplace_back([this, &server, user] {
        try {
          write(server, user);
        } catch (const std::exception&) {  // a refused request: counted, the thread ends
          failures_++;
        }
      });
    }
  }
  ~WriteLoad() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : writers_) {
      if (t.joinable()) t.join();
    }
  }
  int rounds() const { return rounds_; }
  int failures() const { return failures_; }

 private:
  void write(const TestServer& server, const std::string& user) {
    HttpClient client = login(server, user);
    for (int round = 0; round < kRounds && !stop_; ++round) {
      const std::string id = create_token(client, user + " load " + std::to_string(round), 30)["id"].str();
      const std::string edit = R"({"description":")" + user + " edited " + std::to_string(round) + R"("})";
      if (client.patch("/api/v1/tokens/" + id, edit).status != 200) failures_++;
      reveal(client, id);
      if (round % 3 == 0 && client.del("/api/v1/tokens/" + id).status != 204) failures_++;
      rounds_++;
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::atomic<int> failures_{0};
  std::vector<std::thread> writers_;
};

TEST(BackupRestoreE2E, ABackupTakenUnderLoadRestoresToItsHeadAndReplaysTheSame) {
  TestServer server;
  const std::string backups = server.root_dir() + "/backups";
  server.start({.extra_args = {"--backup-dir", backups, "--reveal-rate", "0"}});
  HttpClient admin = login(server, "admin");
  const std::vector<std::string> users = {"w1", "w2", "w3", "w4"};
  for (const auto& user : users) create_user(admin, user, {"api-tokens"});

  Json taken;
  {
    WriteLoad load(server, users);
    for (int i = 0; i < 3000 && load.rounds() < 20 && load.failures() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(load.rounds(), 20) << "the load did not get going";
    const Response res = admin.post("/api/v1/admin/backups", R"({"include_keys": true})");
    ASSERT_EQ(res.status, 201) << describe(res);
    taken = res.json();
    const int at_backup = load.rounds();
    for (int i = 0; i < 3000 && load.rounds() < at_backup + 20 && load.failures() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    load.stop();
    EXPECT_EQ(load.failures(), 0);
  }
  const std::int64_t head_seq = taken["head"]["seq"].integer();
  const std::string head_hash = taken["head"]["hash"].str();
  ASSERT_EQ(server.stop(), 0) << server.log();

  // The log went on after the backup: the backup holds an earlier head than the original.
  const RunResult original = run_admin({"verify", "--data", server.data_dir(), "--json"});
  ASSERT_EQ(original.exit_code, 0) << original.all();
  EXPECT_GT(Json::parse(original.out)["head"]["seq"].integer(), head_seq + 1) << "no write after the backup";

  const RunResult checked = run_admin({"verify", "--backup", backups, "--json"});
  ASSERT_EQ(checked.exit_code, 0) << checked.all();
  EXPECT_TRUE(Json::parse(checked.out)["same_head"].boolean());

  TestServer restored_server;  // its data directory is still empty: restore into it
  const RunResult restored = run_admin(
      {"restore", "--from", backups, "--data", restored_server.data_dir(), "--without-introspection-secret", "--json"});
  ASSERT_EQ(restored.exit_code, 0) << restored.all();
  const Json r = Json::parse(restored.out);
  EXPECT_EQ(r["head"]["seq"].integer(), head_seq);
  EXPECT_EQ(r["head"]["hash"].str(), head_hash);
  EXPECT_TRUE(r["verified"].boolean());

  // The projections folded from the copy are those of the original log at that head.
  const std::string until = std::to_string(head_seq);
  const RunResult replay_original = run_admin({"replay", "--data", server.data_dir(), "--until-seq", until, "--json"});
  const RunResult replay_restored =
      run_admin({"replay", "--data", restored_server.data_dir(), "--until-seq", until, "--json"});
  ASSERT_EQ(replay_original.exit_code, 0) << replay_original.all();
  ASSERT_EQ(replay_restored.exit_code, 0) << replay_restored.all();
  const Json folded_original = Json::parse(replay_original.out);
  const Json folded_restored = Json::parse(replay_restored.out);
  EXPECT_EQ(folded_restored["as_of"]["head_seq"].integer(), head_seq) << "the copy holds more than its head";
  EXPECT_EQ(folded_restored["as_of"]["at"].str(), folded_original["as_of"]["at"].str());
  // "tokens" is the last member: the same text from there on is the same state.
  const auto tokens = [](const std::string& out) { return out.substr(out.find(R"("tokens":)")); };
  EXPECT_EQ(tokens(replay_restored.out), tokens(replay_original.out));
  EXPECT_GT(folded_restored["tokens"].size(), 10u) << "nothing was replayed: " << replay_restored.out;

  // The server starts on the copy and serves it: the same head, verified.
  restored_server.start();
  HttpClient restored_admin = login(restored_server, "admin");
  create_user(restored_admin, "auditor", {"auditors"});
  HttpClient auditor = login(restored_server, "auditor");
  const Json verify = auditor.get("/api/v1/audit/verify").json();
  EXPECT_TRUE(verify["ok"].boolean()) << verify["problem"].is_null();
  // The copy's head, then the restored server's own writes (the new user).
  const Json first_after = auditor.get("/api/v1/audit?after_seq=" + until + "&limit=1").json();
  ASSERT_EQ(first_after["events"].size(), 1u);
  EXPECT_EQ(first_after["events"][0]["prev_hash"].str(), head_hash)
      << "the restored log does not continue the backup's head";
}

}  // namespace
}  // namespace e2e
