// --json errors (issue 16): every error kind as one JSON object {"error":{"code","message"}} on
// stdout and nothing else there, with today's exit statuses; and the plain message, with the
// pid, when the server holds the database.
#include <gtest/gtest.h>

#include <filesystem>

#include "admin_fixture.hpp"

namespace admin_test {
namespace {

namespace fs = std::filesystem;

// The run's stdout as exactly one JSON object (one line) holding "error": {"code", "message"}
// with `code`; the message returned. Fails the test otherwise.
std::string expect_json_error(const RunResult& run, const std::string& code, int exit_code) {
  EXPECT_EQ(run.exit_code, exit_code) << describe(run);
  EXPECT_EQ(lines(run.out).size(), 1u) << "one line on stdout\n" << describe(run);
  EXPECT_TRUE(run.err.empty()) << "nothing on stderr with --json\n" << describe(run);
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parse_json(parser, run.out);
  simdjson::dom::object error;
  EXPECT_EQ(root["error"].get_object().get(error), simdjson::SUCCESS) << describe(run);
  std::string_view got_code, message;
  EXPECT_EQ(error["code"].get_string().get(got_code), simdjson::SUCCESS) << describe(run);
  EXPECT_EQ(error["message"].get_string().get(message), simdjson::SUCCESS) << describe(run);
  EXPECT_EQ(got_code, code) << describe(run);
  EXPECT_FALSE(message.empty()) << describe(run);
  return std::string(message);
}

TEST(AdminJsonErrors, Usage) {
  expect_json_error(admin({"verify", "--bogus", "--json"}), "usage", 2);
  expect_json_error(admin({"frobnicate", "--json"}), "usage", 2);
  const std::string message = expect_json_error(admin({"user", "add", "--json"}), "usage", 2);
  EXPECT_NE(message.find("missing argument USER"), std::string::npos) << message;
  // Without --json: text on stderr, nothing on stdout, as before.
  const RunResult text = admin({"verify", "--bogus"});
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_TRUE(text.out.empty()) << describe(text);
  EXPECT_NE(text.err.find("unrecognised option '--bogus'"), std::string::npos) << describe(text);
}

TEST(AdminJsonErrors, CannotOpen) {
  TempDir dir;
  const std::string message =
      expect_json_error(admin({"verify", "--data", dir.sub("nothing"), "--json"}), "cannot_open", 2);
  EXPECT_NE(message.find("no tokenledger database in " + dir.sub("nothing")), std::string::npos) << message;
  expect_json_error(admin({"verify", "--file", dir.sub("missing.jsonl"), "--json"}), "cannot_open", 2);
}

TEST_F(AdminTest, JsonErrorNotFound) {
  const std::string message =
      expect_json_error(admin({"user", "delete", "nobody", "--data", data(), "--json"}), "not_found", 1);
  EXPECT_NE(message.find("nobody"), std::string::npos) << message;
}

TEST_F(AdminTest, JsonErrorRefused) {
  // bob exists in the scenario: a second bob is refused.
  const std::string message =
      expect_json_error(admin({"user", "add", "bob", "--data", data(), "--json"}), "refused", 1);
  EXPECT_NE(message.find("bob"), std::string::npos) << message;
}

TEST_F(AdminTest, JsonErrorFailed) {
  // --to under a regular file: the backup directory cannot be made.
  write_file(dir.sub("a-file"), "x");
  const std::string message =
      expect_json_error(admin({"backup", "--data", data(), "--to", dir.sub("a-file/backups"), "--json"}), "failed", 1);
  EXPECT_NE(message.find("a-file"), std::string::npos) << message;
}

TEST_F(AdminTest, JsonErrorCheckFailedKeepsTheReportInTheSameObject) {
  EventsEditor(data() + "/db").remove(6);
  const RunResult run = admin({"verify", "--data", data(), "--json"});
  const std::string message = expect_json_error(run, "check_failed", 1);
  EXPECT_NE(message.find("first bad seq 6"), std::string::npos) << message;
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parse_json(parser, run.out);
  bool ok = true;
  EXPECT_EQ(root["ok"].get_bool().get(ok), simdjson::SUCCESS) << run.out;
  EXPECT_FALSE(ok);
  std::uint64_t first_bad = 0;
  EXPECT_EQ(root["first_bad_seq"].get_uint64().get(first_bad), simdjson::SUCCESS) << run.out;
  EXPECT_EQ(first_bad, 6u);
}

TEST_F(AdminTest, JsonErrorCheckFailedForAnExportFile) {
  const RunResult exported = admin({"audit", "--data", data(), "--format", "jsonl"});
  ASSERT_EQ(exported.exit_code, 0) << describe(exported);
  std::vector<std::string> records = lines(exported.out);
  ASSERT_GT(records.size(), 4u);
  std::string changed;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i != 2) changed += records[i] + "\n";  // a record left out: the chain has a gap
  }
  write_file(dir.sub("trail.jsonl"), changed);
  const RunResult intact = admin({"verify", "--file", dir.sub("trail.jsonl"), "--filtered", "--json"});
  const std::string message =
      expect_json_error(admin({"verify", "--file", dir.sub("trail.jsonl"), "--json"}), "check_failed", 1);
  EXPECT_NE(message.find("trail.jsonl does not verify"), std::string::npos) << message;
  // The same file held to be a filtered subset verifies: no "error" member at all.
  EXPECT_EQ(intact.exit_code, 0) << describe(intact);
  EXPECT_EQ(intact.out.find("\"error\""), std::string::npos) << intact.out;
}

TEST_F(AdminTest, JsonErrorServerRunningNamesThePid) {
  Server server(data());
  server.start();
  const std::string message =
      expect_json_error(admin({"user", "add", "eve", "--data", data(), "--json"}), "server_running", 1);
  EXPECT_NE(message.find("tokenledger is serving " + data() + " (pid " + std::to_string(server.pid()) + ")"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("stop it first or use the HTTP API"), std::string::npos) << message;
  EXPECT_EQ(server.stop(), 0) << server.log();
}

// The list of codes in tools/README.md is the list the tool uses: every code tested above.
TEST(AdminJsonErrors, TheReadmeListsEveryCode) {
  const std::string readme = read_file(std::string(TOKENLEDGER_SOURCE_DIR) + "/tools/README.md");
  for (const char* code :
       {"usage", "cannot_open", "not_found", "check_failed", "refused", "server_running", "failed"}) {
    EXPECT_NE(readme.find(std::string("| `") + code + "` |"), std::string::npos) << code;
  }
}

}  // namespace
}  // namespace admin_test
