// What the HTTP edge adds to records (source.client_request_id, source.peer) and what a
// refused append tells a caller (issue 12).
#include <gtest/gtest.h>

#include "common/time_format.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

Record sample() {
  Record r;
  r.seq = 7;
  r.at = *parse_rfc3339("2026-11-27T18:04:14.107Z");
  r.stream = "tok_1";
  r.version = 1;
  r.actor = {"alice", Via::session, {}};
  r.source = {"198.51.100.8", "curl/8", "0123456789abcdef"};
  r.token_id = "tok_1";
  r.owner = "alice";
  r.event = TokenRevealed{};
  r.prev_hash = kGenesisHash;
  return r;
}

TEST(EdgeRecordsTest, RecordsWithoutTheNewSourceFieldsKeepTheirBytes) {
  Record r = sample();
  encode_record(r);
  // The bytes a record had before the fields existed: an old log's hashes still check.
  EXPECT_NE(r.raw.find(R"("source":{"ip":"198.51.100.8","user_agent":"curl/8","request_id":"0123456789abcdef"},)"),
            std::string::npos)
      << r.raw;
  EXPECT_EQ(r.raw.find("client_request_id"), std::string::npos);
  EXPECT_EQ(r.raw.find("peer"), std::string::npos);
}

TEST(EdgeRecordsTest, ClientRequestIdAndPeerRoundTrip) {
  Record r = sample();
  r.source.client_request_id = "abc-\"quoted\"\\~";
  r.source.peer = "127.0.0.1";
  encode_record(r);
  EXPECT_NE(
      r.raw.find(R"("request_id":"0123456789abcdef","client_request_id":"abc-\"quoted\"\\~","peer":"127.0.0.1"})"),
      std::string::npos)
      << r.raw;
  auto back = decode_record(r.raw);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->source.client_request_id, r.source.client_request_id);
  EXPECT_EQ(back->source.peer, "127.0.0.1");
  EXPECT_EQ(back->source.request_id, "0123456789abcdef");
  EXPECT_EQ(back->raw, r.raw);
  // Decoding into a used Record clears them when absent.
  Record plain = sample();
  encode_record(plain);
  RecordDecoder decoder;
  Record reused = *back;
  ASSERT_TRUE(decoder.decode(plain.raw, reused).ok());
  EXPECT_TRUE(reused.source.client_request_id.empty());
  EXPECT_TRUE(reused.source.peer.empty());
}

TEST(EdgeRecordsTest, AFullDiskAnswerTellsNothingAboutFreeSpace) {
  testing::TempDir dir;
  auto store = EventStore::open(dir.path(), {.min_free_bytes = ~std::uint64_t{0}});  // never enough
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto appended = (*store)->append(
      {"tok_1", kNoStream, {TokenRevealed{}}, {"alice", Via::session, {}}, {"127.0.0.1", "ua", "r1"}, "alice", {}});
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().code, ErrorCode::unavailable);
  const std::string& message = appended.error().message;
  EXPECT_EQ(message.find_first_of("0123456789"), std::string::npos) << message;
  EXPECT_EQ(message.find("free"), std::string::npos) << message;
  EXPECT_EQ((*store)->head().seq, 0u) << "nothing appended";
}

}  // namespace
}  // namespace tl
