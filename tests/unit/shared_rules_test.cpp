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
  append_audit_csv_row(out, r);
  EXPECT_EQ(out,
            "1,2026-09-21T14:13:20.001Z,TokenRevealed,tok_1,1,\"'=alice\",session,127.0.0.1,\"curl, \"\"8\"\"\","
            "r1,tok_1,alice," +
                r.hash + ",,\r\n");
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
