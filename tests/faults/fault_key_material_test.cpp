// Key material (issue 11): the key files of a database with history are never created again, a
// master key from another database is refused at start (its check value is in the log), and a
// reveal whose code does not open records nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ldb_tool.hpp"
#include "test_server.hpp"

namespace fs = std::filesystem;

namespace {

using e2e::HttpClient;
using e2e::Json;
using namespace faults;

class FaultKeyMaterial : public e2e::ServerTest {
 protected:
  // Starting must fail; returns what the server said.
  std::string failed_start(const e2e::StartOptions& options = {}) {
    try {
      server.start(options);
    } catch (const std::exception& e) {
      return e.what();
    }
    server.stop();
    return "(the server started)";
  }
};

TEST_F(FaultKeyMaterial, AMissingKeyFileOfADatabaseWithHistoryStopsTheStartAndIsNotMadeAgain) {
  ASSERT_EQ(server.stop(), 0);
  for (const char* name : {"master.key", "signing.key"}) {
    const std::string file = server.data_dir() + "/" + name;
    fs::rename(file, file + ".kept");
    const std::string said = failed_start();
    EXPECT_NE(said.find(file + " is missing"), std::string::npos) << said;
    EXPECT_NE(said.find("never created again"), std::string::npos) << said;
    EXPECT_NE(said.find("--include-keys"), std::string::npos) << said;
    EXPECT_FALSE(fs::exists(file)) << name << " was made again";
    fs::rename(file + ".kept", file);
  }
  // The introspection secret: this database was started with TOKENLEDGER_INTROSPECTION_SECRET, so
  // it has no file; without the variable the file would have to be made, on a database with history.
  const std::string said = failed_start({.prefix = {"env", "-u", "TOKENLEDGER_INTROSPECTION_SECRET"}});
  EXPECT_NE(said.find("introspection.secret is missing"), std::string::npos) << said;
  EXPECT_FALSE(fs::exists(server.data_dir() + "/introspection.secret"));
  server.start();
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

TEST_F(FaultKeyMaterial, AnotherDatabasesMasterKeyIsRefusedAtStart) {
  HttpClient alice = e2e::login(server, "alice");
  const Json token = e2e::create_token(alice, "CI");
  ASSERT_EQ(server.stop(), 0);
  e2e::TestServer other;
  other.start();
  ASSERT_EQ(other.stop(), 0);
  const std::string ours = server.data_dir() + "/master.key";
  fs::rename(ours, ours + ".kept");
  fs::copy_file(other.data_dir() + "/master.key", ours);
  const std::string said = failed_start();
  EXPECT_NE(said.find("is not the one this database's codes are sealed under"), std::string::npos) << said;
  fs::remove(ours);
  fs::rename(ours + ".kept", ours);
  server.start();
  HttpClient again = e2e::login(server, "alice");
  EXPECT_EQ(e2e::reveal(again, token["id"].str()).rfind("tlk_", 0), 0u);
}

TEST_F(FaultKeyMaterial, AnotherDatabasesSigningKeyIsNamedAsAKeyProblem) {
  ASSERT_EQ(server.stop(), 0);
  e2e::TestServer other;
  other.start();
  ASSERT_EQ(other.stop(), 0);
  const std::string ours = server.data_dir() + "/signing.key";
  fs::rename(ours, ours + ".kept");
  fs::copy_file(other.data_dir() + "/signing.key", ours);
  const std::string said = failed_start();
  EXPECT_NE(said.find("is not the one this database's checkpoints are signed with"), std::string::npos) << said;
  EXPECT_EQ(said.find("damaged"), std::string::npos) << "the log is intact: " << said;
}

TEST_F(FaultKeyMaterial, ARevealWhoseCodeDoesNotOpenAnswers500AndRecordsNothing) {
  HttpClient alice = e2e::login(server, "alice");
  const std::string id = e2e::create_token(alice, "CI")["id"].str();
  ASSERT_EQ(server.stop(), 0);
  // The token's wrapped data key, damaged: the key exists (the token is live) but opens nothing.
  std::string wrapped = ldb_get(server.data_dir(), "keys", hex_of(id));
  ASSERT_FALSE(wrapped.empty());
  wrapped[wrapped.size() - 1] = wrapped.back() == '0' ? '1' : '0';
  ldb_put(server.data_dir(), "keys", hex_of(id), wrapped);
  server.start();
  HttpClient again = e2e::login(server, "alice");
  const std::int64_t before = e2e::audit_event_count(again);
  const auto res = again.post("/api/v1/tokens/" + id + "/reveal");
  EXPECT_EQ(res.status, 500) << e2e::describe(res);
  EXPECT_NE(res.body.find("nothing was recorded"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("tlk_"), std::string::npos);
  EXPECT_EQ(e2e::audit_event_count(again), before) << "a showing that never happened was recorded";
  EXPECT_EQ(again.get("/api/v1/audit?type=TokenRevealed&token_id=" + id).json()["events"].size(), 0u);
}

}  // namespace
