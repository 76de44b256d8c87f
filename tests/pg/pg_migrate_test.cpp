// tokenledger-admin migrate (issue 19, item 5): a data directory's log into PostgreSQL and back,
// record for record, and a server on each copy serving what the original served.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "e2e/test_server.hpp"
#include "eventstore/pg_connection.hpp"
#include "pg/pg_instance.hpp"
#include "support/child_process.hpp"

namespace e2e {
namespace {

namespace fs = std::filesystem;

test_support::ChildRun admin_tool(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {TOKENLEDGER_ADMIN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return test_support::run_child(argv, "", env, std::chrono::seconds(120));
}

// The stored records of a data directory's log, one per line (the export keeps the stored bytes).
std::string exported(const std::string& data) {
  const auto run = admin_tool({"audit", "--data", data, "--format", "jsonl"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  return run.out;
}

// The first `lines` lines of `text`.
std::string head_lines(const std::string& text, std::size_t lines) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < lines && at != std::string::npos; ++i) {
    at = text.find('\n', at);
    if (at != std::string::npos) ++at;
  }
  return text.substr(0, at);
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(PgMigrateTest, ALogMovesToPostgreSQLAndBackRecordForRecord) {
  const std::string url = tl::testing::PgInstance::get().new_database();
  TestServer server;
  server.start();
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "to be moved", 15)["id"].str();
  const std::string code = reveal(alice, id);
  ASSERT_EQ(server.stop(), 0);
  const std::string original = exported(server.data_dir());
  const std::size_t records = line_count(original);
  ASSERT_GT(records, 5u);

  // Into PostgreSQL (the URL from the environment, as the help advises), then checked there.
  auto run =
      admin_tool({"migrate", "--from", server.data_dir(), "--to", "env", "--json"}, {"TOKENLEDGER_PG_URL=" + url});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const Json report = Json::parse(run.out);
  EXPECT_TRUE(report["ok"].boolean());
  EXPECT_EQ(report["records"].integer(), static_cast<std::int64_t>(records));
  EXPECT_GE(report["checkpoints"].integer(), 1);
  auto conn = tl::PgConn::connect(url, {}).value();
  EXPECT_EQ(conn->exec("SELECT count(*) FROM tl_events").value().int64(0, 0), static_cast<std::int64_t>(records));
  // Once more into the same database: refused, nothing added.
  run = admin_tool({"migrate", "--from", server.data_dir(), "--to", url});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE((run.out + run.err).find("already holds a log"), std::string::npos) << run.out << run.err;
  EXPECT_EQ(conn->exec("SELECT count(*) FROM tl_events").value().int64(0, 0), static_cast<std::int64_t>(records));

  // A server on the copy (the same key files) serves what the original served.
  server.start({.extra_args = {"--log", url, "--pg-allow-async"}});
  EXPECT_TRUE(introspect(server, code).json()["active"].boolean());
  HttpClient auditor = login(server, "alice");
  const Response verified = auditor.get("/api/v1/audit/verify?full=true");
  ASSERT_EQ(verified.status, 200) << describe(verified);
  EXPECT_TRUE(verified.json()["ok"].boolean()) << verified.body;
  ASSERT_EQ(server.stop(), 0);

  // And back into a new data directory: the records the original held, byte for byte, first.
  const std::string back = (fs::path(server.root_dir()) / "back").string();
  run = admin_tool({"migrate", "--from", url, "--to", back});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("Copied and verified"), std::string::npos) << run.out;
  const std::string returned = exported(back);
  EXPECT_EQ(head_lines(returned, records), original);
  EXPECT_GT(line_count(returned), records);  // the run on PostgreSQL added its own events
  EXPECT_EQ(admin_tool({"verify", "--data", back}).exit_code, 0);
}

TEST(PgMigrateTest, MigrateSaysWhatItNeeds) {
  auto run = admin_tool({"migrate", "--from", "/nonexistent", "--to", "/also-not"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE((run.out + run.err).find("one of --from and --to is a URL"), std::string::npos) << run.out << run.err;
  run = admin_tool({"migrate", "--from", "env", "--to", "/tmp/x"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE((run.out + run.err).find("TOKENLEDGER_PG_URL"), std::string::npos) << run.out << run.err;
}

}  // namespace
}  // namespace e2e
