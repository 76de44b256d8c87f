// A log written by the release before the boundary check (issue 11) may already hold a record
// whose user agent is not UTF-8, as its newest record. It stays readable forever: the server
// starts, the JSON API shows the bad bytes as U+FFFD, the export keeps the stored bytes so their
// hash checks, and verify, replay and rebuild work.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <string>

#include "domain/text_rules.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "ldb_tool.hpp"
#include "test_server.hpp"

namespace {

using e2e::HttpClient;
using e2e::Json;
using namespace faults;

TEST(FaultLegacyRecord, ANewestRecordWithBytesThatAreNotUtf8StaysReadable) {
  e2e::TestServer server;
  server.start();
  HttpClient admin = e2e::login(server, "admin");
  e2e::create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = e2e::login(server, "alice");
  const std::string id = e2e::create_token(alice, "CI")["id"].str();
  e2e::reveal(alice, id);
  const std::uint64_t head =
      static_cast<std::uint64_t>(Json::parse(alice.get("/api/v1/audit/verify").body)["head"]["seq"].num());
  server.signal(SIGKILL);  // no checkpoint at shutdown: the reveal is the newest record, unsigned
  server.wait_exit(std::chrono::seconds(10));

  // What the old release wrote for `User-Agent: caf\xe9`: the same record with those bytes, hashed.
  auto record = tl::decode_record(ldb_get(server.data_dir(), "events", seq_key(head))).value();
  ASSERT_TRUE(std::holds_alternative<tl::TokenRevealed>(record.event));
  record.source.user_agent = "caf\xe9";
  tl::encode_record(record);
  ldb_put(server.data_dir(), "events", seq_key(head), record.raw);
  ldb_put(server.data_dir(), "meta", hex_of("head"), tl::encode_be64(head) + record.hash);

  server.start();  // the newest record is read back at open
  HttpClient auditor = e2e::login(server, "alice");
  const auto page = auditor.get("/api/v1/audit?type=TokenRevealed");
  ASSERT_EQ(page.status, 200) << e2e::describe(page);
  EXPECT_TRUE(tl::utf8_length(page.body)) << "the JSON API serves valid UTF-8";
  EXPECT_NE(page.body.find("caf\xEF\xBF\xBD"), std::string::npos) << page.body;
  const auto verified = Json::parse(auditor.get("/api/v1/audit/verify").body);
  EXPECT_TRUE(verified["ok"].boolean()) << verified["problem"].str();
  const auto exported = auditor.get("/api/v1/audit/export?format=jsonl");
  ASSERT_EQ(exported.status, 200);
  EXPECT_NE(exported.body.find(record.raw), std::string::npos) << "the export keeps the stored bytes";
  ASSERT_EQ(server.stop(), 0);

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{TOKENLEDGER_ADMIN_BIN, "verify", "--data", server.data_dir()},
        {TOKENLEDGER_ADMIN_BIN, "replay", "--data", server.data_dir()},
        {TOKENLEDGER_ADMIN_BIN, "audit", "--data", server.data_dir(), "--format", "csv"},
        {TOKENLEDGER_ADMIN_BIN, "rebuild", "--data", server.data_dir()}}) {
    const Outcome ran = run(args);
    EXPECT_EQ(ran.exit_code, 0) << args[1] << ": " << ran.out;
  }
  server.start();
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

}  // namespace
