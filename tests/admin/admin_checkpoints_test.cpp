// Signed checkpoints: verify checks them in the database and, saved beside an export, without
// it; a log rewritten with recomputed hashes, or cut at its end, passes the chain check but
// not the checkpoints.
#include <gtest/gtest.h>

#include "admin_fixture.hpp"

namespace admin_test {
namespace {

// Rewrites the log from `from` on as a forger would: seq `from` edited, every later record
// re-linked, every hash recomputed.
void rewrite_log(const std::string& db_dir, std::uint64_t from, std::uint64_t head) {
  EventsEditor edit(db_dir);
  std::string prev = hash_of(edit.get(from - 1));
  for (std::uint64_t seq = from; seq <= head; ++seq) {
    std::string record = edit.get(seq);
    if (seq == from) record.replace(record.find("deploy bot"), 10, "deploy BOT");
    record = rehash(record, prev);
    prev = hash_of(record);
    edit.put(seq, record);
  }
}

TEST_F(AdminTest, VerifyChecksTheSignedCheckpoints) {
  ASSERT_EQ(scenario.checkpoint_seqs, (std::vector<std::uint64_t>{6, scenario.head_seq}));
  RunResult run = admin({"verify", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("2 signed checkpoints verified, the last at seq " + std::to_string(scenario.head_seq)),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find(scenario.public_key + " (" + data() + "/signing.key)"), std::string::npos) << run.out;
  run = admin({"verify", "--data", data(), "--json"});
  EXPECT_NE(run.out.find(R"("checkpoints":{"ok":true,"count":2,"public_key":")" + scenario.public_key),
            std::string::npos)
      << run.out;

  // Another key than the one that signed.
  run = admin({"verify", "--data", data(), "--public-key", std::string(64, 'a')});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("checkpoint seq 6\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("signature does not verify"), std::string::npos) << run.out;
}

TEST_F(AdminTest, VerifyFindsALogRewrittenWithRecomputedHashes) {
  rewrite_log(data() + "/db", 5, scenario.head_seq);
  const RunResult run = admin({"verify", "--data", data()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("does not match its signed checkpoints"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("checkpoint seq 6\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("not the one that was signed"), std::string::npos) << run.out;
}

TEST_F(AdminTest, VerifyFindsRecordsCutFromTheEnd) {
  EventsEditor(data() + "/db").remove(scenario.head_seq);
  const RunResult run = admin({"verify", "--data", data()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("checkpoint seq " + std::to_string(scenario.head_seq) + "\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("before the signed checkpoint at seq " + std::to_string(scenario.head_seq)), std::string::npos)
      << run.out;
}

TEST_F(AdminTest, CheckpointsListAndExport) {
  RunResult run = admin({"checkpoints", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("2 signed checkpoints"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(scenario.head_hash), std::string::npos) << run.out;
  run = admin({"checkpoints", "--data", data(), "--format", "jsonl"});
  ASSERT_EQ(lines(run.out).size(), 2u) << run.out;
  EXPECT_EQ(lines(run.out)[0].rfind(R"({"seq":6,)", 0), 0u) << run.out;
}

TEST_F(AdminTest, ExportAndCheckpointsVerifyOfflineAndCatchARewrite) {
  const std::string trail = dir.sub("trail.jsonl"), checkpoints = dir.sub("checkpoints.jsonl");
  write_file(trail, admin({"audit", "--data", data(), "--format", "jsonl"}).out);
  write_file(checkpoints, admin({"checkpoints", "--data", data(), "--format", "jsonl"}).out);
  ASSERT_EQ(lines(read_file(checkpoints)).size(), 2u);
  RunResult run = admin(
      {"verify", "--file", trail, "--complete", "--checkpoints", checkpoints, "--public-key", scenario.public_key});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("2 signed checkpoints verified; 2 match records in the file"), std::string::npos) << run.out;

  // The HTTP API's document works as well.
  const std::string document = dir.sub("checkpoints.json");
  write_file(document, admin({"checkpoints", "--data", data(), "--json"}).out);
  run = admin({"verify", "--file", trail, "--checkpoints", document, "--public-key", scenario.public_key, "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(R"("checkpoints":{"ok":true,"count":2,"matched":2,)"), std::string::npos) << run.out;

  // A filtered export: one checkpoint falls in its gaps, one lies beyond its end.
  const std::string alice = dir.sub("alice.jsonl");
  write_file(alice, admin({"audit", "--data", data(), "--actor", "alice", "--format", "jsonl"}).out);
  run = admin({"verify", "--file", alice, "--filtered", "--checkpoints", checkpoints, "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(R"("matched":0,"in_gaps":1,"beyond_end":1)"), std::string::npos) << run.out;

  // The export rewritten from line 5 with every hash recomputed: the chain holds, the
  // checkpoint at seq 6 does not.
  auto records = lines(read_file(trail));
  std::string rewritten;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i == 4) records[i].replace(records[i].find("deploy bot"), 10, "deploy BOT");
    if (i >= 4) records[i] = rehash(records[i], hash_of(records[i - 1]));
    rewritten += records[i] + "\n";
  }
  write_file(trail, rewritten);
  run = admin({"verify", "--file", trail});
  EXPECT_EQ(run.exit_code, 0) << "without checkpoints a full rewrite is consistent: " << describe(run);
  run = admin({"verify", "--file", trail, "--checkpoints", checkpoints, "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("checkpoint seq  6\n  line            6\n"), std::string::npos) << run.out;

  // A checkpoint file with one checkpoint removed breaks the checkpoints' own chain.
  const auto saved = lines(read_file(checkpoints));
  ASSERT_EQ(saved.size(), 2u);
  write_file(checkpoints, saved[1] + "\n");
  run = admin({"verify", "--file", trail, "--checkpoints", checkpoints});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("one is missing"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace admin_test
