// Issue 16, online backup: POST/GET /api/v1/admin/backups on the real server (--backup-dir),
// each status code, the audited BackupTaken, one backup at a time, and `tokenledger-admin backup
// --server`. The restore of a backup taken under a write load is in e2e_backup_restore_test.cpp.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "e2e_backup_support.hpp"
#include "test_server.hpp"

namespace fs = std::filesystem;

namespace e2e {
namespace {

constexpr const char* kBackups = "/api/v1/admin/backups";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class BackupE2E : public ::testing::Test {
 protected:
  // Starts the server with --backup-dir (unless `with_dir` is false) and `extra` options, signs the
  // admin in and creates alice (api-tokens, auditors) and bob (no group).
  void start(bool with_dir = true, std::vector<std::string> extra = {}) {
    backup_dir = server.root_dir() + "/backups";
    if (with_dir) extra.insert(extra.end(), {"--backup-dir", backup_dir});
    server.start({.extra_args = extra});
    admin.emplace(login(server, "admin"));
    create_user(*admin, "alice", {"api-tokens", "auditors"});
    create_user(*admin, "bob", {});
  }

  std::vector<Json> backup_events() {
    HttpClient alice = login(server, "alice");
    const Response res = alice.get("/api/v1/audit?type=BackupTaken&limit=1000");
    if (res.status != 200) throw std::runtime_error(describe(res));
    return res.json()["events"].items();
  }

  // Waits (at most 4 s) until GET shows a backup running.
  bool wait_until_running() {
    for (int i = 0; i < 400; ++i) {
      if (!admin->get(kBackups).json()["running"].is_null()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Starts the server with a slow backup rate and 20 tokens, and a POST of a backup in the
  // background (by a second admin session); its answer comes through the future.
  std::future<Response> start_slow_backup() {
    start(true, {"--backup-rate-limit", "16384"});
    HttpClient alice = login(server, "alice");
    for (int i = 0; i < 20; ++i) create_token(alice, "padding " + std::to_string(i), 15);
    return std::async(std::launch::async, [this] {
      HttpClient second_admin = login(server, "admin");
      return second_admin.post(kBackups, "{}");
    });
  }

  TestServer server;
  std::optional<HttpClient> admin;
  std::string backup_dir;
};

TEST_F(BackupE2E, WithoutBackupDirThePostIs503NamingTheOption) {
  start(/*with_dir=*/false);
  const Response post = admin->post(kBackups, "{}");
  EXPECT_EQ(post.status, 503) << describe(post);
  EXPECT_EQ(post.error_code(), "unavailable");
  EXPECT_NE(post.body.find("--backup-dir"), std::string::npos) << post.body;
  EXPECT_EQ(admin->get(kBackups).status, 503);
  EXPECT_TRUE(backup_events().empty()) << "a refused backup was recorded";
}

TEST_F(BackupE2E, PostTakesAVerifiedBackupAndAnswers201WithItsHead) {
  start();
  HttpClient alice = login(server, "alice");
  create_token(alice, "before the backup", 15);
  const Response res = admin->post(kBackups, R"({"include_keys": false})");
  ASSERT_EQ(res.status, 201) << describe(res);
  const Json body = res.json();
  const std::string name = body["name"].str();
  EXPECT_EQ(res.header("location"), std::string(kBackups) + "/" + name);
  EXPECT_FALSE(body["include_keys"].boolean());
  EXPECT_EQ(body["head"]["hash"].str().size(), 64u);
  // Nothing was written between the token and the backup: the backup holds the head as it was.
  const Json verify = alice.get("/api/v1/audit/verify").json();
  EXPECT_EQ(body["head"]["seq"].integer() + 1, verify["head"]["seq"].integer()) << "BackupTaken follows the head";
  EXPECT_GT(body["size"].integer(), 0);

  const Json listed = admin->get(kBackups).json();
  ASSERT_EQ(listed["backups"].size(), 1u) << listed["backups"].size();
  EXPECT_EQ(listed["backups"][0]["name"].str(), name);
  EXPECT_EQ(listed["backups"][0]["head"]["seq"].integer(), body["head"]["seq"].integer());
  EXPECT_EQ(listed["backups"][0]["head"]["hash"].str(), body["head"]["hash"].str());
  EXPECT_FALSE(listed["backups"][0]["include_keys"].boolean());
  EXPECT_TRUE(listed["running"].is_null());
  const Response one = admin->get(res.header("location"));
  ASSERT_EQ(one.status, 200) << describe(one);
  EXPECT_EQ(one.json()["created_at"].str(), listed["backups"][0]["created_at"].str());
  EXPECT_EQ(admin->get(std::string(kBackups) + "/999").status, 404);

  // The backup directory follows the admin tool's rules: the database id, keys left out.
  EXPECT_TRUE(fs::exists(backup_dir + "/database_id"));
  EXPECT_TRUE(fs::exists(backup_dir + "/rocksdb"));
  EXPECT_FALSE(fs::exists(backup_dir + "/master.key")) << "keys were copied without include_keys";
  EXPECT_FALSE(fs::exists(server.data_dir() + "/backup-checkpoint.tmp")) << "the checkpoint was left behind";
}

TEST_F(BackupE2E, IncludeKeysCopiesTheKeyFilesOwnerOnly) {
  start();
  const Response res = admin->post(kBackups, R"({"include_keys": true})");
  ASSERT_EQ(res.status, 201) << describe(res);
  EXPECT_TRUE(res.json()["include_keys"].boolean());
  for (const char* name : {"master.key", "signing.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((backup_dir + "/" + name).c_str(), &st), 0) << name << " is not in the backup directory";
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  EXPECT_TRUE(admin->get(kBackups).json()["backups"][0]["include_keys"].boolean());
  // They stay and serve every later backup: the list says the directory holds them.
  ASSERT_EQ(admin->post(kBackups, R"({"include_keys": false})").status, 201);
  const Json list = admin->get(kBackups).json();
  EXPECT_FALSE(list["backups"][1]["include_keys"].boolean());
  std::vector<std::string> held;
  for (const auto& name : list["key_files"].items()) held.push_back(name.str());
  // (This server gets its introspection secret from the environment: there is no file to copy.)
  EXPECT_EQ(held, (std::vector<std::string>{"master.key", "signing.key"}));
}

TEST_F(BackupE2E, ABadBodyIs400NamingTheFieldAndTakesNothing) {
  start();
  const Response wrong_type = admin->post(kBackups, R"({"include_keys": "yes"})");
  EXPECT_EQ(wrong_type.status, 400) << describe(wrong_type);
  EXPECT_EQ(wrong_type.error_code(), "invalid_field");
  EXPECT_NE(wrong_type.body.find("include_keys"), std::string::npos) << wrong_type.body;
  const Response unknown = admin->post(kBackups, R"({"include_key": true})");
  EXPECT_EQ(unknown.status, 400) << describe(unknown);
  EXPECT_EQ(unknown.error_code(), "unknown_field");
  EXPECT_NE(unknown.body.find("include_key"), std::string::npos) << unknown.body;
  EXPECT_EQ(admin->post(kBackups, "[true]").status, 400);
  EXPECT_EQ(admin->post(kBackups, "{}", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(admin->get(kBackups).json()["backups"].size(), 0u);
  EXPECT_TRUE(backup_events().empty());
}

TEST_F(BackupE2E, OnlyAdminsWithASessionMayBackUp) {
  start();
  EXPECT_EQ(server.client().post(kBackups, "{}").status, 401);
  EXPECT_EQ(server.client().get(kBackups).status, 401);
  HttpClient bob = login(server, "bob");
  EXPECT_EQ(bob.post(kBackups, "{}").status, 403);
  HttpClient alice = login(server, "alice");  // api-tokens and auditors, not admins
  EXPECT_EQ(alice.post(kBackups, "{}").status, 403);
  EXPECT_EQ(alice.get(kBackups).status, 403);
  // Even an admin's own API token may not: backups are never open to a token.
  ASSERT_EQ(admin->patch("/api/v1/users/admin", R"({"groups":["admins","api-tokens"]})").status, 200);
  const std::string code = reveal(*admin, create_token(*admin, "admin's", 15)["id"].str());
  const Response by_token = server.client().post(kBackups, "{}", {{"Authorization", "Bearer " + code}});
  EXPECT_EQ(by_token.status, 403) << describe(by_token);
  EXPECT_EQ(by_token.error_code(), "insufficient_scope");
  EXPECT_TRUE(backup_events().empty());
}

TEST_F(BackupE2E, BackupTakenIsAuditedWithTheAdminAndTheHead) {
  start();
  const Json taken = admin->post(kBackups, R"({"include_keys": true})").json();
  const std::vector<Json> events = backup_events();
  ASSERT_EQ(events.size(), 1u);
  const Json& e = events[0];
  EXPECT_EQ(e["stream"].str(), "system:backups");
  EXPECT_EQ(e["actor"]["user"].str(), "admin");
  EXPECT_EQ(e["actor"]["via"].str(), "session");
  EXPECT_FALSE(e["source"]["ip"].is_null());
  EXPECT_EQ(e["data"]["name"].str(), taken["name"].str());
  EXPECT_EQ(e["data"]["head_seq"].integer(), taken["head"]["seq"].integer());
  EXPECT_EQ(e["data"]["head_hash"].str(), taken["head"]["hash"].str());
  EXPECT_TRUE(e["data"]["include_keys"].boolean());
  HttpClient alice = login(server, "alice");
  const Response csv = alice.get("/api/v1/audit/export?format=csv&type=BackupTaken");
  ASSERT_EQ(csv.status, 200) << describe(csv);
  EXPECT_NE(csv.body.find(",BackupTaken,system:backups,"), std::string::npos) << csv.body;
  EXPECT_TRUE(alice.get("/api/v1/audit/verify").json()["ok"].boolean());
}

TEST_F(BackupE2E, AnotherDatabasesBackupDirIs409AndNothingIsRecorded) {
  start();
  fs::create_directories(backup_dir);
  std::ofstream(backup_dir + "/database_id") << "00000000000000000000000000000000\n";
  const Response res = admin->post(kBackups, "{}");
  EXPECT_EQ(res.status, 409) << describe(res);
  EXPECT_NE(res.body.find("another database"), std::string::npos) << res.body;
  EXPECT_TRUE(backup_events().empty()) << "a failed backup was recorded";
}

// One backup at a time: while a slow one (--backup-rate-limit) copies, GET shows it running and a
// second POST is 409; the first completes with 201, and only it is recorded.
TEST_F(BackupE2E, ASecondBackupWhileOneRunsIs409) {
  auto first = start_slow_backup();
  ASSERT_TRUE(wait_until_running()) << "the slow backup never showed as running";
  // Its progress moves (it stayed 0 for a 31 MB database when counted by RocksDB's callback).
  std::int64_t copied = 0;
  for (int i = 0; i < 300 && copied == 0; ++i) {
    const Json running = admin->get(kBackups).json()["running"];
    if (running.is_null()) break;
    copied = running["bytes_copied"].integer();
    if (copied == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(copied, 0) << "bytes_copied never moved";
  const Response second = admin->post(kBackups, "{}");
  EXPECT_EQ(second.status, 409) << describe(second);
  EXPECT_NE(second.body.find("already running"), std::string::npos) << second.body;
  const Response done = first.get();
  EXPECT_EQ(done.status, 201) << describe(done);
  EXPECT_EQ(backup_events().size(), 1u);
  EXPECT_NE(server.log().find("backup into"), std::string::npos) << "no progress in the log";
}

// The start stops on a --backup-dir in the wrong place (found by trying it: a backup with the keys
// into the data directory copied master.key onto itself and left it empty), one that is not a
// directory, or another database's; the data directory and its keys are untouched.
TEST(BackupDirAtStart, AWrongBackupDirStopsTheStartNamingTheOption) {
  TestServer server;
  server.start();
  const std::string key = server.data_dir() + "/master.key";
  const std::string master_key = read_file(key);
  ASSERT_EQ(server.stop(), 0) << server.log();
  const std::string file = server.root_dir() + "/a-file";
  std::ofstream(file) << "x";
  const std::string other = server.root_dir() + "/other";
  fs::create_directories(other);
  std::ofstream(other + "/database_id") << "00000000000000000000000000000000\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {server.data_dir(), "is inside the data directory"},
      {server.data_dir() + "/backups", "is inside the data directory"},
      {server.data_dir() + "/db", "is inside the data directory"},
      {server.root_dir(), "holds the data directory"},
      {file, "is not a directory"},
      {other, "holds backups of another database"},
  };
  for (const auto& [dir, why] : cases) {
    bool started = true;
    try {
      server.start({.extra_args = {"--backup-dir", dir}});
    } catch (const std::runtime_error&) {
      started = false;
    }
    if (started) server.stop();
    EXPECT_FALSE(started) << dir;
    const std::string log = server.log();
    EXPECT_NE(log.find("cannot start: --backup-dir: "), std::string::npos) << dir << "\n" << log;
    EXPECT_NE(log.find(why), std::string::npos) << dir << "\n" << log;
  }
  EXPECT_EQ(read_file(key), master_key);
  EXPECT_FALSE(fs::exists(server.data_dir() + "/backups"));
  // A right one starts.
  server.start({.extra_args = {"--backup-dir", server.root_dir() + "/backups"}});
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

// SIGTERM during a slow backup: the copy stops, the request answers 503, nothing is recorded or
// listed, and the server stops promptly instead of waiting for the copy to end.
TEST_F(BackupE2E, SigtermStopsARunningBackup) {
  auto slow = start_slow_backup();
  ASSERT_TRUE(wait_until_running()) << "the slow backup never showed as running";
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(server.stop(std::chrono::seconds(30)), 0) << server.log();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(15)) << server.log();
  const Response answer = slow.get();
  if (answer.status != 0) {  // 0: closed unanswered
    EXPECT_EQ(answer.status, 503) << describe(answer);
  }
  EXPECT_NE(server.log().find("the backup was stopped: the server is stopping"), std::string::npos) << server.log();

  server.start({.extra_args = {"--backup-dir", backup_dir}});
  admin.emplace(login(server, "admin"));
  EXPECT_TRUE(backup_events().empty()) << "a stopped backup was recorded";
  EXPECT_EQ(admin->get(kBackups).json()["backups"].size(), 0u);
  // The next backup is whole, and verifies.
  ASSERT_EQ(admin->post(kBackups, "{}").status, 201);
  const RunResult verified = run_admin({"verify", "--backup", backup_dir});
  EXPECT_EQ(verified.exit_code, 0) << verified.all();
}

// tokenledger-admin backup --server: signs in with the password from standard input.
TEST_F(BackupE2E, TheAdminToolBacksUpARunningServer) {
  start();
  const RunResult text =
      run_admin({"backup", "--server", server.origin(), "--user", "admin"}, std::string(kAdminPassword) + "\n");
  ASSERT_EQ(text.exit_code, 0) << text.all();
  EXPECT_NE(text.out.find("head seq"), std::string::npos) << text.out;
  EXPECT_EQ(text.all().find(kAdminPassword), std::string::npos) << "the password was echoed";
  const RunResult json =
      run_admin({"backup", "--server", server.origin(), "--user", "admin", "--include-keys", "--json"},
                std::string(kAdminPassword) + "\n");
  ASSERT_EQ(json.exit_code, 0) << json.all();
  const Json body = Json::parse(json.out);
  EXPECT_TRUE(body["include_keys"].boolean());
  EXPECT_EQ(admin->get(kBackups).json()["backups"].size(), 2u);
  EXPECT_EQ(backup_events().size(), 2u);

  const RunResult wrong = run_admin({"backup", "--server", server.origin(), "--user", "admin"}, "not the password\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.all();
  EXPECT_NE(wrong.err.find("sign-in refused"), std::string::npos) << wrong.all();
  const RunResult not_admin =
      run_admin({"backup", "--server", server.origin(), "--user", "bob"}, password_of("bob") + "\n");
  EXPECT_EQ(not_admin.exit_code, 1) << not_admin.all();
  EXPECT_NE(not_admin.err.find("403"), std::string::npos) << not_admin.all();
  const RunResult no_password = run_admin({"backup", "--server", server.origin(), "--user", "admin"}, "");
  EXPECT_EQ(no_password.exit_code, 2) << no_password.all();
  const RunResult ftp = run_admin({"backup", "--server", "ftp://127.0.0.1/", "--user", "admin"}, "x\n");
  EXPECT_EQ(ftp.exit_code, 2) << ftp.all();
  EXPECT_NE(ftp.err.find("http or https"), std::string::npos) << ftp.all();
  EXPECT_EQ(admin->get(kBackups).json()["backups"].size(), 2u);

  const RunResult verified = run_admin({"verify", "--backup", backup_dir, "--json"});
  EXPECT_EQ(verified.exit_code, 0) << verified.all();
  EXPECT_TRUE(Json::parse(verified.out)["ok"].boolean()) << verified.out;
  // The keys an earlier backup left in the directory serve this one too: the tool says so.
  const RunResult later =
      run_admin({"backup", "--server", server.origin(), "--user", "admin"}, std::string(kAdminPassword) + "\n");
  ASSERT_EQ(later.exit_code, 0) << later.all();
  EXPECT_NE(later.out.find("still holds master.key, signing.key"), std::string::npos) << later.out;
}

}  // namespace
}  // namespace e2e
