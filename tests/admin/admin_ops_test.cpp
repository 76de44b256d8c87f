// rebuild, backup and restore, user management, and living beside a running server.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include "admin_fixture.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/user_service.hpp"

namespace admin_test {
namespace {

namespace fs = std::filesystem;

// The persisted projections of a data directory: the token rows, the users and the audit
// index, as text.
std::string projections_of(const std::string& data) {
  auto store = tl::EventStore::open(data + "/db",
                                    {.extra_column_families = tl::ReadModel::column_families(), .read_only = true});
  if (!store) throw std::runtime_error(store.error().message);
  tl::ReadModel model(**store);
  if (auto loaded = model.load(); !loaded) throw std::runtime_error(loaded.error().message);
  std::string out;
  for (const auto& row : model.tokens().all()) out += tl::TokenTable::encode(row) + "\n";
  for (const auto& user : model.users().list()) out += tl::UserTable::encode(user) + "\n";
  for (const auto& key : model.audit().dump()) out += key + "\n";
  return out;
}

bool authenticates(const std::string& data, const std::string& user, const std::string& password) {
  auto store = tl::EventStore::open(data + "/db",
                                    {.extra_column_families = tl::ReadModel::column_families(), .read_only = true});
  if (!store) throw std::runtime_error(store.error().message);
  tl::ReadModel model(**store);
  if (auto loaded = model.load(); !loaded) throw std::runtime_error(loaded.error().message);
  return tl::UserService(**store, model).authenticate(user, password).ok();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST_F(AdminTest, RebuildFoldsEverythingAgainWithCountAndRate) {
  const std::string before = projections_of(data());
  const RunResult run = admin({"rebuild", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("events   " + std::to_string(scenario.head_seq) + "\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events/s"), std::string::npos) << run.out;
  EXPECT_EQ(projections_of(data()), before);

  const RunResult json = admin({"rebuild", "--data", data(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << describe(json);
  EXPECT_NE(json.out.find("\"events\":" + std::to_string(scenario.head_seq) + ","), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"events_per_second\":"), std::string::npos) << json.out;
}

TEST_F(AdminTest, BackupThenRestoreGivesTheSameHeadAndTokens) {
  const std::string backup = dir.sub("backup"), restored = dir.sub("restored");
  RunResult run = admin({"backup", "--data", data(), "--to", backup});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(scenario.head_hash), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(backup + "/master.key")) << "keys stay out of a backup unless asked for";

  run = admin({"restore", "--from", backup, "--keys-from", data(), "--data", restored});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  for (const char* key : {"/master.key", "/signing.key"}) {
    EXPECT_EQ(mode_of(restored + key), 0600u) << key;
    EXPECT_EQ(read_file(restored + key), read_file(data() + key)) << key;
  }
  EXPECT_NE(run.out.find("2 signed checkpoints verified"), std::string::npos) << run.out;

  const RunResult original = admin({"verify", "--data", data(), "--json"});
  const RunResult copy = admin({"verify", "--data", restored, "--json"});
  ASSERT_EQ(copy.exit_code, 0) << describe(copy);
  EXPECT_EQ(copy.out, original.out.substr(0, original.out.find(data())) + restored +
                          original.out.substr(original.out.find(data()) + data().size()));
  EXPECT_NE(copy.out.find(scenario.head_hash), std::string::npos) << copy.out;

  const std::string seq = std::to_string(scenario.head_seq);
  EXPECT_EQ(admin({"replay", "--data", restored, "--until-seq", seq}).out,
            admin({"replay", "--data", data(), "--until-seq", seq}).out);
  EXPECT_EQ(projections_of(restored), projections_of(data()));

  // The restored directory is not empty any more: a second restore into it is refused.
  run = admin({"restore", "--from", backup, "--keys-from", data(), "--data", restored});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("not empty"), std::string::npos) << describe(run);
}

TEST_F(AdminTest, UserAddShowsInListAndInTheAuditAsAdminTool) {
  RunResult run =
      admin({"user", "add", "carol", "--groups", "api-tokens,auditors", "--password-stdin", "--data", data()},
            "carol-password-1\n");
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out.find("carol-password-1"), std::string::npos) << "a given password is never echoed";

  run = admin({"user", "list", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("carol  api-tokens,auditors"), std::string::npos) << run.out;

  run = admin({"audit", "--data", data(), "--type", "UserCreated", "--format", "jsonl"});
  const auto created = lines(run.out);
  ASSERT_EQ(created.size(), 4u) << run.out;  // admin, alice, bob, carol
  EXPECT_NE(created.back().find(R"("stream":"user:carol")"), std::string::npos) << created.back();
  EXPECT_NE(created.back().find(R"("actor":{"user":")" + operator_account() + R"(","via":"admin_tool")"),
            std::string::npos)
      << created.back();
  EXPECT_NE(created.back().find(R"("user_agent":"tokenledger-admin")"), std::string::npos) << created.back();
  EXPECT_TRUE(authenticates(data(), "carol", "carol-password-1"));
  EXPECT_EQ(admin({"verify", "--data", data()}).exit_code, 0);
}

TEST_F(AdminTest, UserGeneratedPasswordGroupsPasswdDelete) {
  RunResult run = admin({"user", "add", "dave", "--data", data(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  simdjson::dom::parser parser;
  const std::string password(parse_json(parser, run.out)["password"].get_string().value());
  EXPECT_GE(password.size(), 20u);
  EXPECT_TRUE(authenticates(data(), "dave", password));

  run = admin({"user", "groups", "dave", "auditors", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("auditors"), std::string::npos) << run.out;

  run = admin({"user", "passwd", "dave", "--password-stdin", "--data", data()}, "a-new-password\n");
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_TRUE(authenticates(data(), "dave", "a-new-password"));
  EXPECT_FALSE(authenticates(data(), "dave", password));

  run = admin({"user", "delete", "dave", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(admin({"user", "list", "--data", data()}).out.find("dave"), std::string::npos);

  run = admin({"audit", "--data", data(), "--actor", operator_account(), "--format", "csv"});
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 5u) << run.out;
  const char* types[] = {",UserCreated,", ",UserGroupsChanged,", ",UserPasswordChanged,", ",UserDeleted,"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NE(rows[i + 1].find(types[i]), std::string::npos) << rows[i + 1];
    EXPECT_NE(rows[i + 1].find("," + operator_account() + ",admin_tool,"), std::string::npos) << rows[i + 1];
  }

  // Mistakes: no such user (1), an unknown group (2); nothing is appended for either.
  run = admin({"user", "delete", "dave", "--data", data()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("dave"), std::string::npos) << describe(run);
  run = admin({"user", "groups", "bob", "wizards", "--data", data()});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find("unknown group 'wizards'"), std::string::npos) << describe(run);
  EXPECT_NE(admin({"verify", "--data", data()}).out.find("events       " + std::to_string(scenario.head_seq + 4)),
            std::string::npos);
}

TEST_F(AdminTest, WhileTheServerRunsReadsWorkAndWritesRefuse) {
  Server server(data());
  server.start();
  // The server's first start on this database records its master key's check value, then its
  // ServerStarted (an access event, queued without waiting: it may not be durable yet).
  RunResult run = admin({"verify", "--data", data()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  std::smatch head;
  ASSERT_TRUE(std::regex_search(run.out, head, std::regex("head seq +(\\d+)"))) << run.out;
  EXPECT_GE(std::stoull(head[1].str()), scenario.head_seq + 1);
  EXPECT_LE(std::stoull(head[1].str()), scenario.head_seq + 2);
  EXPECT_NE(admin({"audit", "--data", data(), "--type", "KeyCheckRecorded", "--format", "jsonl"})
                .out.find(R"("seq":)" + std::to_string(scenario.head_seq + 1)),
            std::string::npos);
  EXPECT_EQ(admin({"replay", "--data", data()}).exit_code, 0);
  EXPECT_EQ(admin({"audit", "--data", data(), "--format", "csv"}).exit_code, 0);
  EXPECT_EQ(admin({"user", "list", "--data", data()}).exit_code, 0);

  const std::vector<std::vector<std::string>> writes = {
      {"user", "add", "eve", "--data", data()},
      {"user", "passwd", "bob", "--data", data()},
      {"user", "delete", "bob", "--data", data()},
      {"rebuild", "--data", data()},
      {"backup", "--data", data(), "--to", dir.sub("backup")},
      {"restore", "--from", dir.sub("backup"), "--data", data()},
  };
  ASSERT_EQ(fs::create_directories(dir.sub("backup/rocksdb")), true);
  for (const auto& args : writes) {
    run = admin(args);
    EXPECT_EQ(run.exit_code, 1) << args[0] << "\n" << describe(run);
    // Issue 16: the holder named, with its pid (was "the server is running on DIR").
    EXPECT_NE(run.err.find("tokenledger is serving " + data() + " (pid " + std::to_string(server.pid()) + ")"),
              std::string::npos)
        << describe(run);
    EXPECT_NE(run.err.find("stop it first"), std::string::npos) << describe(run);
  }
  EXPECT_EQ(server.stop(), 0) << server.log();
  run = admin({"verify", "--data", data()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  // KeyCheckRecorded, ServerStarted, ServerStopped: the refused writes appended nothing.
  EXPECT_NE(run.out.find("head seq     " + std::to_string(scenario.head_seq + 3)), std::string::npos) << run.out;
}

}  // namespace
}  // namespace admin_test

namespace admin_test {

TEST_F(AdminTest, RevokeTokensAndDeleteUserRevokeWithTheReason) {
  // bob holds t3 and t4 in the scenario.
  RunResult run = admin({"user", "revoke-tokens", "bob", "--data", data()});
  EXPECT_EQ(run.exit_code, 2) << "a reason is required: " << describe(run);
  run = admin({"user", "revoke-tokens", "nosuchuser", "--reason", "left the company", "--data", data()});
  EXPECT_NE(run.exit_code, 0) << "an unknown user is an error, not 0 tokens revoked: " << describe(run);
  EXPECT_NE(run.err.find("no such user"), std::string::npos) << describe(run);
  run = admin({"user", "revoke-tokens", "BOB", "--reason", "left the company", "--data", data(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(R"("revoked":2)"), std::string::npos) << run.out;
  run =
      admin({"audit", "--data", data(), "--type", "TokenDeleted", "--actor", operator_account(), "--format", "jsonl"});
  const auto revoked = lines(run.out);
  ASSERT_EQ(revoked.size(), 2u) << run.out;
  for (const auto& line : revoked) EXPECT_NE(line.find(R"("reason":"left the company")"), std::string::npos) << line;

  // Deleting alice revokes her remaining token (t2) with the reason "user deleted".
  run = admin({"user", "delete", "alice", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("revoked 1 tokens"), std::string::npos) << run.out;
  run = admin({"audit", "--data", data(), "--token-id", scenario.t2, "--type", "TokenDeleted", "--format", "jsonl"});
  ASSERT_EQ(lines(run.out).size(), 1u) << run.out;
  EXPECT_NE(run.out.find(R"("reason":"user deleted")"), std::string::npos) << run.out;
  EXPECT_EQ(admin({"verify", "--data", data()}).exit_code, 0);
}

}  // namespace admin_test
