// Corruption: one byte of a stored record is changed (through RocksDB, so RocksDB's own
// checksums still pass and only the hash chain can tell). The server must refuse to start,
// naming the first bad seq and the verify command; an explicit --read-only start serves reads
// and answers every write with 503 unavailable.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "test_server.hpp"

namespace {

using e2e::HttpClient;
using e2e::Json;
using e2e::Response;

std::uint64_t be64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

// Opens the server's database directly, finds the record in `events` whose bytes contain
// `needle`, flips the lowest bit of the needle's first byte and writes the record back.
// Returns the record's seq (keys are big-endian seqs), or 0 when no record matched.
std::uint64_t flip_byte_in_record(const std::string& data_dir, const std::string& needle) {
  const std::string path = data_dir + "/db";
  std::vector<std::string> names;
  rocksdb::Options options;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) return 0;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, path, descriptors, &handles, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "events") events = handles[i];
  }
  std::uint64_t seq = 0;
  if (events != nullptr) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, events));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string value = it->value().ToString();
      const auto at = value.find(needle);
      if (at == std::string::npos) continue;
      value[at] = static_cast<char>(value[at] ^ 0x01);
      seq = be64(it->key().ToStringView());
      rocksdb::WriteOptions sync;
      sync.sync = true;
      if (!db->Put(sync, events, it->key(), value).ok()) seq = 0;
      break;
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db->Close().PermitUncheckedError();
  return seq;
}

// Starting must fail; returns the error text (the server's output is part of it).
std::string failed_start(e2e::TestServer& server, const std::vector<std::string>& args) {
  try {
    server.start({.extra_args = args});
  } catch (const std::exception& e) {
    return e.what();
  }
  server.stop();
  return {};
}

class FaultCorruption : public e2e::ServerTest {
 protected:
  void create_tokens(const std::string& prefix, int n) {
    HttpClient alice = e2e::login(server, "alice");
    for (int i = 0; i < n; ++i) {
      const Json t = e2e::create_token(alice, prefix + std::to_string(i), 10 + i);
      ids.push_back(t["id"].str());
      if (i % 3 == 0) e2e::reveal(alice, t["id"].str());
    }
  }
  std::vector<std::string> ids;
};

TEST_F(FaultCorruption, DamagedMiddleRecordStopsTheStartAndReadOnlyServesReads) {
  create_tokens("corrupt-me-", 20);
  std::int64_t events = 0;
  {
    HttpClient alice = e2e::login(server, "alice");
    events = e2e::audit_event_count(alice);
  }
  ASSERT_EQ(server.stop(), 0);
  const std::uint64_t bad = flip_byte_in_record(server.data_dir(), "corrupt-me-10");
  ASSERT_GT(bad, 1u);
  ASSERT_LT(bad, static_cast<std::uint64_t>(events));  // a middle record

  const std::string refused = failed_start(server, {"--verify-on-start", "full"});
  ASSERT_FALSE(refused.empty()) << "the server started on a damaged log";
  EXPECT_NE(refused.find("exited (status 1)"), std::string::npos) << refused;
  EXPECT_NE(refused.find("first bad seq " + std::to_string(bad)), std::string::npos) << refused;
  EXPECT_NE(refused.find("tokenledger-admin verify --data " + server.data_dir()), std::string::npos) << refused;
  EXPECT_EQ(refused.find("listening on"), std::string::npos) << refused;
  // Issue 16: what happened and what to do, in plain words.
  EXPECT_NE(refused.find("Not started, so that nothing is written after the damage"), std::string::npos) << refused;
  EXPECT_NE(refused.find("start with --read-only to investigate"), std::string::npos) << refused;

  // --read-only: reads, audit and verify work; verify names the bad seq; writes are refused.
  server.start({.extra_args = {"--read-only", "--verify-on-start", "full"}});
  EXPECT_NE(server.log().find("Serving read-only: reads are answered, writes are refused (503) and /readyz says not "
                              "ready until the log is repaired or restored from a backup"),
            std::string::npos)
      << server.log();
  sign_in_admin();  // signing in is a read: sessions live in memory
  HttpClient alice = e2e::login(server, "alice");
  const Response list = alice.get("/api/v1/tokens");
  ASSERT_EQ(list.status, 200) << e2e::describe(list);
  EXPECT_EQ(list.json()["tokens"].size(), 20u);
  EXPECT_EQ(alice.get("/api/v1/tokens/" + ids[3]).status, 200);
  const Response audit = alice.get("/api/v1/audit?type=TokenRevealed&limit=1000");
  ASSERT_EQ(audit.status, 200) << e2e::describe(audit);
  EXPECT_EQ(audit.json()["events"].size(), 7u);
  const Response verify = alice.get("/api/v1/audit/verify");
  ASSERT_EQ(verify.status, 200) << e2e::describe(verify);
  EXPECT_FALSE(verify.json()["ok"].boolean()) << verify.body;
  EXPECT_EQ(verify.json()["first_bad_seq"].integer(), static_cast<std::int64_t>(bad)) << verify.body;

  const std::vector<Response> writes = {
      alice.post("/api/v1/tokens", e2e::token_body("new", 5)),
      alice.patch("/api/v1/tokens/" + ids[0], R"({"description":"changed"})"),
      alice.post("/api/v1/tokens/" + ids[0] + "/reveal"),
      alice.del("/api/v1/tokens/" + ids[1]),
      admin->post("/api/v1/users", R"({"username":"dave","password":"a long password","groups":[]})"),
  };
  for (const Response& w : writes) {
    EXPECT_EQ(w.status, 503) << e2e::describe(w);
    EXPECT_EQ(w.error_code(), "unavailable") << e2e::describe(w);
  }
  EXPECT_EQ(alice.get("/api/v1/tokens").json()["tokens"].size(), 20u);
  EXPECT_EQ(server.stop(), 0);

  // Nothing was written by the read-only run: the damage is still found at the same seq.
  const std::string again = failed_start(server, {"--verify-on-start", "full"});
  EXPECT_NE(again.find("first bad seq " + std::to_string(bad)), std::string::npos) << again;
}

// Default start-up check (tail): the newest signed checkpoint no longer matches the damaged
// record it names, so the check falls back to the older checkpoint and finds the damage.
TEST_F(FaultCorruption, DefaultTailCheckFallsBackToAnOlderCheckpoint) {
  create_tokens("first-run-", 5);
  ASSERT_EQ(server.stop(), 0);  // signs a checkpoint of the head
  server.start();
  {
    HttpClient alice = e2e::login(server, "alice");
    e2e::create_token(alice, "tail-damage-target", 7);  // the last record before the stop
  }
  ASSERT_EQ(server.stop(), 0);  // signs a checkpoint naming that record
  const std::uint64_t bad = flip_byte_in_record(server.data_dir(), "tail-damage-target");
  ASSERT_GT(bad, 1u);

  const std::string refused = failed_start(server, {});
  ASSERT_FALSE(refused.empty()) << "the server started on a damaged log";
  EXPECT_NE(refused.find("first bad seq " + std::to_string(bad)), std::string::npos) << refused;
  EXPECT_NE(refused.find("tokenledger-admin verify --data " + server.data_dir()), std::string::npos) << refused;

  // --verify-on-start off starts anyway (the operator's explicit choice); verify still reports it.
  server.start({.extra_args = {"--verify-on-start", "off", "--read-only"}});
  HttpClient alice = e2e::login(server, "alice");
  const Response verify = alice.get("/api/v1/audit/verify");
  EXPECT_EQ(verify.json()["first_bad_seq"].integer(), static_cast<std::int64_t>(bad)) << verify.body;
}

// An undamaged log starts with the tail check, which covers only the records after the newest
// checkpoint (fast on big logs), and with the full check.
TEST_F(FaultCorruption, CleanLogStartsWithEveryCheckMode) {
  create_tokens("clean-", 5);
  for (const char* mode : {"tail", "full", "off"}) {
    ASSERT_NO_THROW(server.restart({.extra_args = {"--verify-on-start", mode}})) << mode << server.log();
  }
  EXPECT_NE(server.log().find("event log verified (tail): 1 records"), std::string::npos) << server.log();
  EXPECT_EQ(server.stop(), 0);
  const std::string bad_option = failed_start(server, {"--verify-on-start", "sometimes"});
  EXPECT_NE(bad_option.find("status 2"), std::string::npos) << bad_option;
}

}  // namespace
