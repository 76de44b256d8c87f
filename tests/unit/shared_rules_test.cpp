// The rules and formats that have one home each (issue 14): the media-type check, the audit
// CSV, the hash-link rule, the histogram bounds and the checkpoints document.
#include <gtest/gtest.h>

#include "eventstore/chain_link.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/store_stats_bounds.hpp"
#include "http/request_checks.hpp"
#include "projections/audit_csv.hpp"
#include "service/verify_report.hpp"

namespace tl {
namespace {

net::Request with_content_type(std::string_view type) {
  net::Request req{net::http::verb::post, "/", 11};
  req.set(net::http::field::content_type, type);
  return req;
}

TEST(MediaTypeTest, ComparesTheTypeBeforeParametersAsciiCaseInsensitively) {
  EXPECT_TRUE(has_media_type(with_content_type("application/json"), "application/json"));
  EXPECT_TRUE(has_media_type(with_content_type("Application/JSON; charset=utf-8"), "application/json"));
  EXPECT_TRUE(has_media_type(with_content_type("application/json  ;charset=utf-8"), "application/json"));
  EXPECT_FALSE(has_media_type(with_content_type("application/json5"), "application/json"));
  EXPECT_FALSE(has_media_type(with_content_type("application/jso"), "application/json"));
  EXPECT_FALSE(has_media_type(with_content_type(""), "application/json"));
}

Record record(std::uint64_t seq, const std::string& prev_hash) {
  Record r;
  r.seq = seq;
  r.at = Timestamp(std::chrono::milliseconds(1'790'000'000'000 + static_cast<std::int64_t>(seq)));
  r.stream = "tok_1";
  r.version = seq;
  r.actor = {"=alice", Via::session, {}};
  r.source = {"127.0.0.1", "curl, \"8\"", "r1"};
  r.token_id = "tok_1";
  r.owner = "alice";
  r.event = TokenRevealed{};
  r.prev_hash = prev_hash;
  encode_record(r);
  return r;
}

TEST(AuditCsvTest, QuotesSeparatorsAndNeutralisesFormulas) {
  std::string out;
  append_audit_csv_header(out);
  EXPECT_EQ(out, std::string(kAuditCsvHeader) + "\r\n");
  out.clear();
  const Record r = record(1, kGenesisHash);
  AuditCsvRows rows;
  rows.append(out, r);
  EXPECT_EQ(out,
            "1,2026-09-21T14:13:20.001Z,TokenRevealed,tok_1,1,\"'=alice\",session,127.0.0.1,\"curl, \"\"8\"\"\","
            "r1,tok_1,alice," +
                r.hash + ",,,,,,,,,\r\n");
}

// The data columns (issue 18): what each kind of event changed, so a spreadsheet shows it.
TEST(AuditCsvTest, DataColumnsShowWhatChanged) {
  auto row_of = [](AuditCsvRows& rows, Event event, std::string stream = "tok_1",
                   Actor actor = {"alice", Via::session, {}}) {
    Record r;
    r.seq = 7;
    r.at = Timestamp(std::chrono::milliseconds(1790000000001));
    r.stream = std::move(stream);
    r.actor = std::move(actor);
    r.event = std::move(event);
    std::string out;
    rows.append(out, r);
    // The seven data columns: the last seven fields (none of the values below holds a comma).
    std::vector<std::string> fields;
    std::string field;
    for (char c : out.substr(0, out.size() - 2)) {
      if (c == ',') {
        fields.push_back(field), field.clear();
      } else {
        field.push_back(c);
      }
    }
    fields.push_back(field);
    return std::vector<std::string>(fields.end() - 7, fields.end());
  };
  std::vector<std::string> asked;
  AuditCsvRows rows([&](const std::string& id) -> std::optional<Timestamp> {
    asked.push_back(id);
    if (id == "tok_old") return Timestamp(std::chrono::milliseconds(1780000000000));
    return std::nullopt;
  });
  using V = std::vector<std::string>;
  EXPECT_EQ(row_of(rows, TokenCreated{"alice", "Müller's CI", 30, "", ""}),
            (V{"Müller's CI", "30", "2026-10-21T14:13:20.001Z", "", "", "", ""}));
  EXPECT_EQ(row_of(rows, TokenDescriptionChanged{"renamed"}), (V{"renamed", "", "", "", "", "", ""}));
  // Counted from the creation in the same export (not asked for), or from the one the lookup finds.
  EXPECT_EQ(row_of(rows, TokenTimeoutChanged{60}), (V{"", "60", "2026-11-20T14:13:20.001Z", "", "", "", ""}));
  EXPECT_EQ(row_of(rows, TokenTimeoutChanged{10}, "tok_old"),
            (V{"", "10", "2026-06-07T20:26:40.000Z", "", "", "", ""}));
  EXPECT_EQ(row_of(rows, TokenTimeoutChanged{10}, "tok_gone"), (V{"", "10", "", "", "", "", ""}));
  EXPECT_EQ(asked, (std::vector<std::string>{"tok_old", "tok_gone"}));
  EXPECT_EQ(row_of(rows, TokenDeleted{"left the team"}), (V{"", "", "", "left the team", "", "", ""}));
  EXPECT_EQ(row_of(rows, UserCreated{"bob", {"api-tokens", "auditors"}}, "user:bob"),
            (V{"", "", "", "", "api-tokens auditors", "", ""}));
  EXPECT_EQ(row_of(rows, UserGroupsChanged{{"admins"}}, "user:bob"), (V{"", "", "", "", "admins", "", ""}));
  EXPECT_EQ(row_of(rows, TokenRevealed{}, "tok_1", Actor{"alice", Via::api_token, "tok_9"}),
            (V{"", "", "", "", "", "tok_9", ""}));
  // The access events: the reason where they have one, and what they hold in `details`.
  EXPECT_EQ(row_of(rows, SessionEnded{"carol", "idle"}, "system:access", Actor{"system", Via::system, {}}),
            (V{"", "", "", "idle", "", "", "username=carol reason=idle"}));
  EXPECT_EQ(row_of(rows,
                   AccessDenied{"POST",
                                "/api/v1/tokens/{}/reveal",
                                {},
                                404,
                                "not_found",
                                30,
                                Timestamp(std::chrono::milliseconds(1790000000001))},
                   "system:access"),
            (V{"", "", "", "", "", "",
               "POST /api/v1/tokens/{}/reveal 404 not_found count=30 first_at=2026-09-21T14:13:20.001Z"}));
  EXPECT_EQ(row_of(rows, AuditRead{"/api/v1/audit", "type=TokenRevealed"}, "system:access"),
            (V{"", "", "", "", "", "", "route=/api/v1/audit filters=type=TokenRevealed"}));
}

TEST(ChainLinkTest, NamesWhatBreaksTheLink) {
  const Record first = record(1, kGenesisHash);
  const Record second = record(2, first.hash);
  EXPECT_EQ(ChainLink{}.problem(first), "");
  EXPECT_EQ(first_record_problem(first), "");
  const ChainLink after_first{1, first.hash};
  EXPECT_EQ(after_first.problem(second), "");
  EXPECT_EQ(after_first.problem(record(5, "whatever")), "") << "a gap is the caller's to judge";
  EXPECT_NE(after_first.problem(record(2, kGenesisHash)).find("prev_hash does not link to the record before (seq 1)"),
            std::string::npos);
  EXPECT_NE(after_first.problem(first).find("out of order: seq 1 comes after seq 1"), std::string::npos);
  EXPECT_NE(ChainLink{}.problem(record(1, second.hash)).find("genesis"), std::string::npos);
  EXPECT_EQ(first_record_problem(record(3, "anything")), "") << "a filtered export may start anywhere";

  const CheckedRecord good = check_record_bytes(second.raw);
  ASSERT_TRUE(good.record.has_value());
  EXPECT_EQ(good.record->hash, second.hash);
  std::string altered = second.raw;
  altered.replace(altered.find("alice"), 5, "mally");
  const CheckedRecord bad = check_record_bytes(altered);
  EXPECT_FALSE(bad.record.has_value());
  EXPECT_EQ(bad.seq, 2u);
  EXPECT_NE(bad.problem.find("do not match its hash"), std::string::npos);
  EXPECT_EQ(check_record_bytes("{").seq, 0u);
}

TEST(StoreStatsBoundsTest, BucketsAreTheFirstBoundNotBelowTheValue) {
  EXPECT_EQ(batch_size_bucket(1), 0u);
  EXPECT_EQ(batch_size_bucket(2), 1u);
  EXPECT_EQ(batch_size_bucket(3), 2u);
  EXPECT_EQ(batch_size_bucket(512), 9u);
  EXPECT_EQ(batch_size_bucket(513), kBatchSizeBounds.size());
  EXPECT_EQ(write_latency_bucket(0.0005), 0u);
  EXPECT_EQ(write_latency_bucket(0.0006), 1u);
  EXPECT_EQ(write_latency_bucket(0.064), 7u);
  EXPECT_EQ(write_latency_bucket(1.0), kWriteLatencyBoundsMs.size());
}

TEST(VerifyReportTest, CheckpointsDocumentHoldsTheStoredBytes) {
  SignedCheckpoint c;
  c.raw = R"({"seq":1,"hash":"ab"})";
  EXPECT_EQ(checkpoints_json({c, c}, "k"),
            R"({"public_key":"k","checkpoints":[{"seq":1,"hash":"ab"},{"seq":1,"hash":"ab"}]})");
  IntegrityReport r;
  EXPECT_EQ(integrity_report_json(r, "k", true, {{"data", "/d"}}),
            R"({"ok":true,"events":0,"head":{"seq":0,"hash":")" + kGenesisHash +
                R"("},"checkpoints":{"ok":true,"count":0,"public_key":"k"},"witnessed":0,)"
                R"("indexes":{"checked":true,"streams":0,"audit":0},"data":"/d"})");
}

}  // namespace
}  // namespace tl
