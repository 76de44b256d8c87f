// The access events' recorder (service/access_events.hpp): refusals coalesced per actor, route and
// window; everything dropped and counted when the log refuses writes; the filters' canonical text.
#include "service/access_events.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <thread>

#include "eventstore/event_store.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

using std::chrono::seconds;
const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

std::array<unsigned char, 32> test_key() {
  std::array<unsigned char, 32> key{};
  key.fill(7);
  return key;
}

class AccessEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = EventStore::open(dir_.path(), {.sync = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }
  // Every record of the access stream, once the queued appends are durable.
  std::vector<Record> recorded() {
    store_->stop_appender();
    std::vector<Record> out;
    EXPECT_TRUE(store_->read_stream(std::string(kAccessStream), [&](const Record& r) {
      out.push_back(r);
      return true;
    }));
    return out;
  }
  static AccessDenied denial(std::string target) {
    return {.method = "POST",
            .route = "/api/v1/tokens/{}/reveal",
            .target = std::move(target),
            .status = 404,
            .code = "not_found"};
  }

  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  TokenSecrets secrets_{test_key()};
  const Actor alice_{"alice", Via::session, {}};
  const Source from_{"192.0.2.1", "curl/8", "r1"};
};

TEST_F(AccessEventsTest, AScanIsTheFirstRefusalAndOneCountPerWindow) {
  AccessEvents access(*store_, secrets_, seconds{60});
  for (int i = 0; i < 50; ++i) {
    access.denied(denial("/api/v1/tokens/tok_" + std::to_string(i) + "/reveal"), alice_, from_, kT0 + seconds{i});
  }
  access.flush(kT0 + seconds{59});  // the window has not ended yet
  access.flush(kT0 + seconds{60});
  const auto records = recorded();
  ASSERT_EQ(records.size(), 2u);
  const auto& first = std::get<AccessDenied>(records[0].event);
  EXPECT_EQ(first.count, 1u);
  EXPECT_EQ(first.target, "/api/v1/tokens/tok_0/reveal");
  EXPECT_EQ(first.first_at, kT0);
  EXPECT_EQ(records[0].actor.user, "alice");
  EXPECT_EQ(records[0].source.ip, "192.0.2.1");
  const auto& rest = std::get<AccessDenied>(records[1].event);
  EXPECT_EQ(rest.count, 49u);
  EXPECT_EQ(rest.first_at, kT0 + seconds{1});
  EXPECT_TRUE(rest.target.empty()) << "one count stands for many paths";
  EXPECT_EQ(access.counts().coalesced, 49u);
  EXPECT_EQ(access.counts().recorded, 2u);
}

TEST_F(AccessEventsTest, OtherActorsRoutesAndStatusesAreCountedApart) {
  AccessEvents access(*store_, secrets_, seconds{60});
  access.denied(denial("/a"), alice_, from_, kT0);
  access.denied(denial("/b"), Actor{"bob", Via::session, {}}, from_, kT0);
  access.denied(denial("/c"), Actor{"alice", Via::api_token, "tok_x"}, from_, kT0);
  AccessDenied forbidden = denial("/d");
  forbidden.status = 403;
  access.denied(forbidden, alice_, from_, kT0);
  AccessDenied other_route = denial("/e");
  other_route.route = "/api/v1/tokens/{}";
  access.denied(other_route, alice_, from_, kT0);
  EXPECT_EQ(recorded().size(), 5u) << "each the first of its kind";
}

TEST_F(AccessEventsTest, ANewWindowStartsWithARecordOfItsOwn) {
  AccessEvents access(*store_, secrets_, seconds{60});
  access.denied(denial("/1"), alice_, from_, kT0);
  access.denied(denial("/2"), alice_, from_, kT0 + seconds{10});
  access.denied(denial("/3"), alice_, from_, kT0 + seconds{61});  // ends the first window
  const auto records = recorded();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(std::get<AccessDenied>(records[1].event).count, 1u);
  EXPECT_TRUE(std::get<AccessDenied>(records[1].event).target.empty());
  EXPECT_EQ(std::get<AccessDenied>(records[2].event).target, "/3");
}

TEST_F(AccessEventsTest, OpenWindowsAreBounded) {
  AccessEvents access(*store_, secrets_, seconds{60}, /*max_windows=*/4);
  for (int i = 0; i < 6; ++i) {
    const Actor actor{"user" + std::to_string(i), Via::session, {}};
    access.denied(denial("/x"), actor, from_, kT0);
    access.denied(denial("/y"), actor, from_, kT0);  // counted in its window
  }
  // The fifth actor's window flushed the first four (each with its count of one).
  EXPECT_EQ(recorded().size(), 6u + 4u);
}

TEST_F(AccessEventsTest, ThrottledSignInsAreCoalescedPerAddressAndOthersEachRecorded) {
  AccessEvents access(*store_, secrets_, seconds{60});
  const Actor nobody{"", Via::session, {}};
  for (int i = 0; i < 30; ++i) {
    access.sign_in_failed({{}, access.name_hash("guess" + std::to_string(i)), "throttled"}, nobody, from_,
                          kT0 + seconds{i});
  }
  const Source elsewhere{"198.51.100.7", "curl/8", "r2"};
  access.sign_in_failed({{}, access.name_hash("x"), "throttled"}, nobody, elsewhere, kT0);
  for (int i = 0; i < 3; ++i)
    access.sign_in_failed({"carol", {}, "wrong_password"}, {"carol", Via::session, {}}, from_, kT0);
  access.flush(kT0 + seconds{60});
  const auto records = recorded();
  ASSERT_EQ(records.size(), 1u + 1u + 3u + 1u);
  const auto& first = std::get<UserSignInFailed>(records[0].event);
  EXPECT_EQ(first.count, 1u);
  EXPECT_EQ(first.name_hash, access.name_hash("guess0"));
  const auto& summary = std::get<UserSignInFailed>(records.back().event);
  EXPECT_EQ(summary.reason, "throttled");
  EXPECT_EQ(summary.count, 29u);
  EXPECT_TRUE(summary.name_hash.empty() && summary.username.empty()) << "one record stands for many names";
  EXPECT_TRUE(records.back().actor.user.empty()) << "nor does its actor name one";
  EXPECT_EQ(records.back().source.ip, "192.0.2.1");
  EXPECT_EQ(std::get<UserSignInFailed>(records[2].event).reason, "wrong_password");
}

TEST_F(AccessEventsTest, OneUsersTokensShareAWindowAndTheSummaryNamesNoTokenItCannot) {
  AccessEvents access(*store_, secrets_, seconds{60});
  for (int i = 0; i < 100; ++i) {
    access.denied(denial("/x"), Actor{"bob", Via::api_token, "tok_" + std::to_string(i)}, from_, kT0);
  }
  access.flush(kT0 + seconds{60});
  const auto records = recorded();
  ASSERT_EQ(records.size(), 2u) << "a user's hundred tokens are one window, not a hundred";
  EXPECT_EQ(records[0].actor.token_id, "tok_0");
  EXPECT_EQ(std::get<AccessDenied>(records[1].event).count, 99u);
  EXPECT_EQ(records[1].actor.user, "bob");
  EXPECT_TRUE(records[1].actor.token_id.empty()) << "99 tokens: none is named";
}

TEST_F(AccessEventsTest, ReadsSignInsAndSessionEndsAreRecordedOneByOneUpToTheBudget) {
  AccessEvents access(*store_, secrets_, seconds{60});
  const auto budget = AccessEvents::kPerMinute;
  for (std::uint64_t i = 0; i < budget + 40; ++i) {
    access.audit_read(AuditRead{"/api/v1/audit", "after_seq=" + std::to_string(i)}, alice_, from_, kT0);
    access.signed_in(alice_, from_, kT0);
    access.session_ended({"alice", "sign_out"}, alice_, from_, kT0);
  }
  access.flush(kT0, /*all=*/true);
  std::uint64_t reads = 0, read_count = 0, sign_ins = 0, ends = 0;
  for (const Record& r : recorded()) {
    if (const auto* read = std::get_if<AuditRead>(&r.event)) {
      ++reads;
      read_count += read->count;
      if (read->count > 1) {
        EXPECT_TRUE(read->filters.empty()) << "one record stands for many slices";
      }
    }
    if (std::holds_alternative<UserSignedIn>(r.event)) sign_ins += std::get<UserSignedIn>(r.event).count;
    if (std::holds_alternative<SessionEnded>(r.event)) ends += std::get<SessionEnded>(r.event).count;
  }
  EXPECT_EQ(reads, budget + 1);
  EXPECT_EQ(read_count, budget + 40) << "every read is counted";
  EXPECT_EQ(sign_ins, budget + 40);
  EXPECT_EQ(ends, budget + 40);
}

TEST_F(AccessEventsTest, ASummaryOfEventsByDifferentActorsNamesNone) {
  AccessEvents access(*store_, secrets_, seconds{60});
  const Actor admin{"admin", Via::session, {}}, other{"root", Via::session, {}};
  for (std::uint64_t i = 0; i < AccessEvents::kPerMinute + 2; ++i) {
    access.session_ended({"carol", "revoked"}, i % 2 == 0 ? admin : other, from_, kT0);
  }
  access.flush(kT0, /*all=*/true);
  const auto records = recorded();
  ASSERT_EQ(records.size(), AccessEvents::kPerMinute + 1);
  EXPECT_EQ(std::get<SessionEnded>(records.back().event).count, 2u);
  EXPECT_TRUE(records.back().actor.user.empty()) << "ended by admin and by root: neither stands for both";
}

TEST_F(AccessEventsTest, NothingIsQueuedWhileTheLogRefusesWritesAndTheDropIsCounted) {
  AccessEvents access(*store_, secrets_, seconds{60});
  store_->refuse_writes("damage found at seq 3");
  access.record(UserSignedIn{}, alice_, from_);
  access.denied(denial("/a"), alice_, from_, kT0);
  EXPECT_EQ(access.counts().dropped, 2u);
  EXPECT_EQ(access.counts().recorded, 0u);
  EXPECT_TRUE(recorded().empty());
}

TEST_F(AccessEventsTest, AnAppendTheLogFailsIsCountedAsDropped) {
  AccessEvents access(*store_, secrets_, seconds{60});
  store_->stop_appender();  // appends now fail (the appender is gone)
  access.record(UserSignedIn{}, alice_, from_);
  for (int i = 0; i < 100 && access.counts().dropped == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(access.counts().dropped, 1u);
}

TEST_F(AccessEventsTest, NameHashIsKeyedAndStable) {
  AccessEvents access(*store_, secrets_);
  EXPECT_EQ(access.name_hash("mallory"), access.name_hash("mallory"));
  EXPECT_NE(access.name_hash("mallory"), access.name_hash("mallory2"));
  EXPECT_EQ(access.name_hash("mallory").size(), 64u);
  std::array<unsigned char, 32> other = test_key();
  other[0] = 8;
  TokenSecrets other_secrets(other);
  EXPECT_NE(other_secrets.name_hash("mallory"), access.name_hash("mallory")) << "keyed by the master key";
  EXPECT_NE(access.name_hash("mallory"), secrets_.lookup_hash("mallory")) << "a key of its own";
}

TEST(CanonicalFiltersTest, SortedPairsWithTheSeparatorsEncoded) {
  std::map<std::string, std::string, std::less<>> query{{"type", "TokenRevealed"}, {"actor", "a&b=c%"}};
  EXPECT_EQ(canonical_filters(query), "actor=a%26b%3Dc%25&type=TokenRevealed");
  EXPECT_EQ(canonical_filters({}), "");
  std::map<std::string, std::string, std::less<>> invalid{{"owner", "\xff"}};
  EXPECT_EQ(canonical_filters(invalid), "owner=\xEF\xBF\xBD");
}

}  // namespace
}  // namespace tl
