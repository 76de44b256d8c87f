// replay and audit on the scenario: the state at every recorded point, time bounds, filters,
// the formats, and no token code anywhere.
#include <gtest/gtest.h>

#include <set>

#include "admin_fixture.hpp"
#include "common/time_format.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"

namespace admin_test {
namespace {

TEST_F(AdminTest, ReplayUntilSeqEqualsTheTableRecordedThen) {
  ASSERT_GE(scenario.snapshots.size(), 10u);
  for (const Snapshot& snap : scenario.snapshots) {
    const RunResult run = admin({"replay", "--data", data(), "--until-seq", std::to_string(snap.seq), "--json"});
    ASSERT_EQ(run.exit_code, 0) << describe(run);
    EXPECT_EQ(to_string(replay_tokens(run.out)), to_string(snap.tokens)) << "at seq " << snap.seq;
  }
}

TEST_F(AdminTest, ReplayUntilTimeEqualsTheTableRecordedThen) {
  for (const Snapshot& snap : scenario.snapshots) {
    const RunResult run = admin({"replay", "--data", data(), "--until", snap.at, "--json"});
    ASSERT_EQ(run.exit_code, 0) << describe(run);
    EXPECT_EQ(to_string(replay_tokens(run.out)), to_string(snap.tokens)) << "at " << snap.at;
    EXPECT_NE(run.out.find("\"seq\":" + std::to_string(snap.seq) + ","), std::string::npos) << run.out;
  }
}

TEST_F(AdminTest, ReplayTableFiltersAndExpiry) {
  RunResult run = admin({"replay", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  for (const char* header : {"ID", "OWNER", "DESCRIPTION", "CREATED", "EXPIRES", "EXPIRED", "VERSION"}) {
    EXPECT_NE(run.out.find(header), std::string::npos) << header;
  }
  EXPECT_NE(run.out.find(scenario.t2), std::string::npos);
  EXPECT_EQ(run.out.find(scenario.t1), std::string::npos) << "t1 was deleted";

  run = admin({"replay", "--data", data(), "--owner", "bob", "--json"});
  const auto bobs = replay_tokens(run.out);
  ASSERT_EQ(bobs.size(), 2u) << run.out;
  for (const auto& t : bobs) EXPECT_EQ(t.owner, "bob");

  run = admin({"replay", "--data", data(), "--token", scenario.t2, "--until-seq", "5", "--json"});
  const auto t2 = replay_tokens(run.out);
  ASSERT_EQ(t2.size(), 1u) << run.out;
  EXPECT_EQ(t2[0].description, "deploy bot");
  EXPECT_EQ(t2[0].version, 1u);

  // Two days on, bob's one-day token has expired; the others have not.
  const std::string later = tl::format_rfc3339(tl::now_ms() + std::chrono::hours(48));
  run = admin({"replay", "--data", data(), "--until", later, "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, run.out);
  int expired = 0;
  for (simdjson::dom::element t : doc["tokens"].get_array()) {
    const bool is_t3 = t["id"].get_string().value() == scenario.t3;
    EXPECT_EQ(t["expired"].get_bool().value(), is_t3) << run.out;
    expired += t["expired"].get_bool().value() ? 1 : 0;
  }
  EXPECT_EQ(expired, 1);
}

TEST_F(AdminTest, AuditFiltersAnswerWhoShowedWhichToken) {
  RunResult run = admin({"audit", "--data", data(), "--token-id", scenario.t1, "--format", "csv"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 4u) << run.out;  // header, created, revealed, deleted
  EXPECT_EQ(rows[0],
            "seq,at,type,stream,version,actor,via,ip,user_agent,request_id,token_id,owner,hash,client_request_id,peer,"
            "description,timeout_days,expires_at,reason,groups,actor_token_id,details\r");
  EXPECT_NE(rows[2].find(",TokenRevealed,"), std::string::npos) << rows[2];
  EXPECT_NE(rows[2].find(",alice,session,192.0.2.7,scenario-agent/1.0,"), std::string::npos) << rows[2];

  run = admin({"audit", "--data", data(), "--type", "TokenRevealed"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("alice (session)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("bob (session)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("2 records"), std::string::npos) << run.out;

  run = admin({"audit", "--data", data(), "--actor", "bob", "--format", "jsonl"});
  for (const auto& line : lines(run.out)) EXPECT_NE(line.find(R"("actor":{"user":"bob")"), std::string::npos) << line;
  EXPECT_EQ(lines(run.out).size(), 3u) << run.out;  // t3, t4 created, t4 revealed

  run = admin({"audit", "--data", data(), "--after-seq", "3", "--limit", "2", "--format", "jsonl"});
  rows = lines(run.out);
  ASSERT_EQ(rows.size(), 2u) << run.out;
  EXPECT_EQ(rows[0].rfind(R"({"schema":1,"seq":4,)", 0), 0u) << rows[0];

  // since/until: the records of one step, by its time.
  const Snapshot& deleted = scenario.snapshots[8];  // after the delete of t1
  run = admin({"audit", "--data", data(), "--since", deleted.at, "--until",
               tl::format_rfc3339(*tl::parse_rfc3339(deleted.at) + std::chrono::milliseconds(1)), "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("\"type\":\"TokenDeleted\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"count\":1}"), std::string::npos) << run.out;
}

TEST_F(AdminTest, AuditJsonlIsTheStoredRecords) {
  const RunResult run = admin({"audit", "--data", data(), "--format", "jsonl"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  auto store = tl::EventStore::open(data() + "/db",
                                    {.extra_column_families = tl::ReadModel::column_families(), .read_only = true});
  ASSERT_TRUE(store) << store.error().message;
  std::string stored;
  ASSERT_TRUE((*store)->read_range(1, UINT64_MAX, [&](const tl::Record& r) {
    stored += r.raw + "\n";
    return true;
  }));
  EXPECT_EQ(run.out, stored);
}

// "…SS.mmmZ" with `digits` appended to the fraction.
std::string finer(const std::string& at, const std::string& digits) {
  return at.substr(0, at.size() - 1) + digits + "Z";
}

// Both meanings of a time, at full precision: audit's window [since, until) and replay's point.
TEST_F(AdminTest, TimesCompareAtFullPrecision) {
  const Snapshot& deleted = scenario.snapshots[8];  // after the delete of t1, the record at deleted.at
  // until is exclusive: at .mmm9 the record at .mmm is before it (a floored bound lost it).
  RunResult run =
      admin({"audit", "--data", data(), "--since", deleted.at, "--until", finer(deleted.at, "9"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("\"type\":\"TokenDeleted\""), std::string::npos) << run.out;
  // since is inclusive: at .mmm1 the record at .mmm is not at or after it.
  run = admin(
      {"audit", "--data", data(), "--since", finer(deleted.at, "1"), "--until", finer(deleted.at, "9"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("\"count\":0}"), std::string::npos) << run.out;
  // replay --until is a point in time: at .mmm9 the table is the one recorded at .mmm.
  std::string lower = finer(deleted.at, "9");
  lower[10] = 't';
  lower.back() = 'z';
  run = admin({"replay", "--data", data(), "--until", lower, "--json"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(to_string(replay_tokens(run.out)), to_string(deleted.tokens));
  for (const char* bad : {"2026-11-27T18:04:14+24:00", "2026-11-27T18:04:14+00:60", "2026-11-27T18:04:14+99:99"}) {
    run = admin({"audit", "--data", data(), "--until", bad});
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << describe(run);
    EXPECT_NE(run.err.find("--until"), std::string::npos) << run.err;
    run = admin({"replay", "--data", data(), "--until", bad});
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << describe(run);
  }
}

// --owner (issue 18): the records on a user's tokens, the name case-folded as the server does;
// its manifest names the filter it applied and the export checks against it.
TEST_F(AdminTest, AuditByOwnerListsTheRecordsOnThatUsersTokens) {
  const std::string path = dir.sub("alice.manifest.json");
  const std::string trail = dir.sub("alice.jsonl");
  RunResult run = admin({"audit", "--data", data(), "--owner", "ALICE", "--format", "jsonl", "--manifest", path});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const auto rows = lines(run.out);
  ASSERT_GE(rows.size(), 5u) << run.out;  // t1: created, revealed, deleted; t2: created, edited
  std::set<std::string> tokens;
  for (const auto& row : rows) {
    simdjson::dom::parser parser;
    auto record = parse_json(parser, row);
    EXPECT_EQ(record["owner"].get_string().value(), "alice") << row;
    tokens.emplace(record["token_id"].get_string().value());
  }
  EXPECT_EQ(tokens, (std::set<std::string>{scenario.t1, scenario.t2}));
  simdjson::dom::parser parser;
  const std::string text = read_file(path);
  EXPECT_EQ(parse_json(parser, text)["filters"]["owner"].get_string().value(), "alice") << text;
  EXPECT_EQ(parse_json(parser, text)["count"].get_uint64().value(), rows.size()) << text;
  write_file(trail, run.out);
  run = admin({"verify", "--file", trail, "--manifest", path});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_TRUE(lines(admin({"audit", "--data", data(), "--owner", "nobody", "--format", "jsonl"}).out).empty());
  for (const char* command : {"audit", "replay"}) {
    run = admin({command, "--data", data(), "--owner", "ali\xff"});
    EXPECT_EQ(run.exit_code, 2) << command << ": " << describe(run);
    EXPECT_NE(run.err.find("--owner: must be valid UTF-8"), std::string::npos) << run.err;
  }
}

// --bom and the data columns (issue 18) in the tool's CSV, as in the HTTP export's.
TEST_F(AdminTest, AuditCsvCarriesTheDataColumnsAndABomWhenAsked) {
  RunResult run = admin({"audit", "--data", data(), "--token-id", scenario.t2, "--format", "csv", "--bom"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  ASSERT_EQ(run.out.rfind("\xEF\xBB\xBFseq,at,type,", 0), 0u) << run.out;
  EXPECT_NE(run.out.find(",description,timeout_days,expires_at,reason,groups,actor_token_id,details\r\n"),
            std::string::npos);
  EXPECT_NE(run.out.find(",deploy bot,30,"), std::string::npos)
      << "t2's creation: description and timeout: " << run.out;
  run = admin({"audit", "--data", data(), "--token-id", scenario.t2, "--format", "csv"});
  EXPECT_EQ(run.out.rfind("seq,", 0), 0u) << "no byte order mark unless asked";
  for (std::vector<std::string> bad : {std::vector<std::string>{"--bom"}, {"--format", "jsonl", "--bom"}}) {
    std::vector<std::string> args{"audit", "--data", data()};
    args.insert(args.end(), bad.begin(), bad.end());
    run = admin(args);
    EXPECT_EQ(run.exit_code, 2) << describe(run);
    EXPECT_NE(run.err.find("--bom needs --format csv"), std::string::npos) << run.err;
  }
}

// The manifest written beside a jsonl export describes exactly that export.
TEST_F(AdminTest, AuditManifestDescribesTheExport) {
  const std::string path = dir.sub("t1.manifest.json");
  RunResult run =
      admin({"audit", "--data", data(), "--token-id", scenario.t1, "--format", "jsonl", "--manifest", path});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 3u) << run.out;  // created, revealed, deleted
  simdjson::dom::parser parser;
  const std::string text = read_file(path);
  auto m = parse_json(parser, text);
  EXPECT_EQ(m["manifest"].get_string().value(), "tokenledger-audit-export");
  EXPECT_EQ(m["version"].get_int64().value(), 1);
  EXPECT_TRUE(tl::parse_rfc3339(m["generated_at"].get_string().value())) << text;
  EXPECT_EQ(m["filters"].get_object().size(), 1u) << text;
  EXPECT_EQ(m["filters"]["token_id"].get_string().value(), scenario.t1);
  EXPECT_EQ(m["count"].get_uint64().value(), 3u);
  simdjson::dom::parser line_parser;
  EXPECT_EQ(m["first_seq"].get_uint64().value(), parse_json(line_parser, rows.front())["seq"].get_uint64().value());
  EXPECT_EQ(m["last_seq"].get_uint64().value(), parse_json(line_parser, rows.back())["seq"].get_uint64().value());
  ASSERT_FALSE(scenario.checkpoint_seqs.empty());
  EXPECT_EQ(m["checkpoint"]["seq"].get_uint64().value(), scenario.checkpoint_seqs.back()) << text;
  EXPECT_EQ(m["checkpoint"]["signature"].get_string().value().size(), 128u) << text;

  // Unfiltered: the whole log up to its head, hash included.
  run = admin({"audit", "--data", data(), "--format", "jsonl", "--manifest", path});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const auto all = lines(run.out);
  const std::string whole = read_file(path);
  auto w = parse_json(parser, whole);
  EXPECT_EQ(w["filters"].get_object().size(), 0u) << whole;
  EXPECT_EQ(w["count"].get_uint64().value(), all.size());
  EXPECT_EQ(w["head"]["seq"].get_uint64().value(), all.size());
  EXPECT_EQ(std::string(w["head"]["hash"].get_string().value()), hash_of(all.back()));
  EXPECT_EQ(w["first_seq"].get_uint64().value(), 1u);

  for (std::vector<std::string> bad : {std::vector<std::string>{"--manifest", path},
                                       {"--format", "csv", "--manifest", path},
                                       {"--format", "jsonl", "--limit", "2", "--manifest", path}}) {
    bad.insert(bad.begin(), {"audit", "--data", data()});
    run = admin(bad);
    EXPECT_EQ(run.exit_code, 2) << describe(run);
    EXPECT_NE(run.err.find("--manifest"), std::string::npos) << run.err;
  }
}

TEST_F(AdminTest, NoOutputShowsACode) {
  ASSERT_EQ(scenario.codes.size(), 2u);
  std::vector<std::vector<std::string>> commands = {{"replay"},
                                                    {"replay", "--json"},
                                                    {"audit"},
                                                    {"audit", "--json"},
                                                    {"audit", "--format", "csv"},
                                                    {"audit", "--format", "jsonl"},
                                                    {"user", "list"},
                                                    {"verify"}};
  for (auto args : commands) {
    args.insert(args.end(), {"--data", data()});
    const RunResult run = admin(args);
    ASSERT_EQ(run.exit_code, 0) << describe(run);
    for (const auto& code : scenario.codes) {
      EXPECT_EQ(run.all().find(code), std::string::npos) << args[0] << " shows a code";
      EXPECT_EQ(run.all().find(code.substr(4, 16)), std::string::npos) << args[0] << " shows part of a code";
    }
  }
}

}  // namespace
}  // namespace admin_test
