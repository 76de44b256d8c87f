// As-of lists through the audit index's owner keys and the owner snapshots (issue 16) answer
// exactly what the full fold of the log answers: every owner, every record time as the moment (and
// the millisecond before), every seq bound; before and after the owner keys and the snapshots are
// back-filled. An altered, added or misplaced snapshot is named by the integrity check. And the
// time -> seq search.
#include "projections/point_in_time.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/time_format.hpp"
#include "eventstore/event_store.hpp"
#include "projections/audit_index.hpp"
#include "projections/owner_snapshots.hpp"
#include "projections/read_model.hpp"
#include "service/integrity.hpp"
#include "service/offboarding.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

std::array<unsigned char, 32> test_key() {
  std::array<unsigned char, 32> k{};
  k.fill(9);
  return k;
}

// The rows as comparable text, in the order given.
std::vector<std::string> encoded(const std::vector<TokenRow>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(TokenTable::encode(row));
  return out;
}

class PointInTimeTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Opens the store and loads the read model (writable unless `read_only`).
  void reopen(bool read_only = false) {
    model_.reset();
    if (store_) store_->close();
    store_ =
        EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families(), .read_only = read_only})
            .value();
    model_ = std::make_unique<ReadModel>(*store_, snapshot_every_);
    ASSERT_TRUE(model_->load().ok());
  }

  // The owner snapshots' keys, in key order.
  std::vector<std::string> snapshot_keys() {
    std::vector<std::string> keys;
    EXPECT_TRUE(store_->state()
                    .scan(ReadModel::kStateFamily, {.prefix = OwnerSnapshots::kPrefix},
                          [&](std::string_view key, std::string_view) {
                            keys.emplace_back(key);
                            return true;
                          })
                    .ok());
    return keys;
  }

  // Six owners; tokens created, edited, revealed and deleted in a shuffled order, several events
  // to a millisecond; one user deleted and created again under the same name (her old tokens are
  // revoked, her new ones are hers); one user offboarded.
  void write_history() {
    TokenSecrets secrets(test_key());
    TokenService tokens(*store_, *model_, secrets, 100);
    UserService users(*store_, *model_);
    const RequestContext admin{{"admin", Via::session, {}}, {"127.0.0.1", "test", "r"}};
    const std::vector<std::string> names{"alice", "bob", "carol", "dave", "erin", "frank"};
    for (const auto& name : names) {
      ASSERT_TRUE(run_command(*store_, users.create(admin, name, "password-of-" + name, {"api-tokens"})).ok());
    }
    std::mt19937 rng(16);
    std::vector<std::pair<std::string, std::string>> live;  // owner, token id
    auto ctx = [](const std::string& who) { return RequestContext{{who, Via::session, {}}, {"127.0.0.1", "t", "r"}}; };
    for (int step = 0; step < 400; ++step) {
      const int action = static_cast<int>(rng() % 10);
      if (live.size() < 3 || action < 3) {
        const std::string& who = names[rng() % names.size()];
        auto row =
            run_command(*store_, tokens.create(ctx(who), "token " + std::to_string(step), 1 + step % 300, now_ms()));
        ASSERT_TRUE(row.ok()) << row.error().message;
        live.emplace_back(who, row->state.id);
      } else {
        const std::size_t i = rng() % live.size();
        const auto [who, id] = live[i];
        if (action < 6) {
          ASSERT_TRUE(run_command(*store_, tokens.reveal(ctx(who), id)).ok());
        } else if (action < 8) {
          const UpdateToken edit{"edited " + std::to_string(step), 2 + step % 300, std::nullopt};
          ASSERT_TRUE(run_command(*store_, tokens.update(ctx(who), id, edit, now_ms())).ok());
        } else {
          ASSERT_TRUE(run_command(*store_, tokens.remove(ctx(who), id)).ok());
          live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      if (step % 37 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // several distinct times
      if (step == 150) {
        ASSERT_TRUE(run_command(*store_, delete_user(users, *model_, admin, "carol")).ok());
        std::erase_if(live, [](const auto& t) { return t.first == "carol"; });
        ASSERT_TRUE(run_command(*store_, users.create(admin, "carol", "password-of-carol-2", {"api-tokens"})).ok());
      }
      if (step == 250) {
        ASSERT_TRUE(run_command(*store_, revoke_tokens(*model_, admin, "dave", "left")).ok());
        std::erase_if(live, [](const auto& t) { return t.first == "dave"; });
      }
    }
  }

  // Every owner (and one that never existed) at every record's time, the millisecond before it,
  // and before the first record; and at a sample of seq bounds, with and without a token filter.
  void expect_same_as_full_fold() {
    std::set<Timestamp> distinct;
    ASSERT_TRUE(store_
                    ->read_range(1, UINT64_MAX,
                                 [&](const Record& r) {
                                   distinct.insert(r.at);
                                   return true;
                                 })
                    .ok());
    ASSERT_GT(distinct.size(), 10u);
    // About 40 of the record times (each, and the millisecond before it), first and last included.
    std::vector<Timestamp> times;
    const std::vector<Timestamp> all(distinct.begin(), distinct.end());
    for (std::size_t i = 0; i < all.size(); i += std::max<std::size_t>(1, all.size() / 40)) {
      times.push_back(all[i] - std::chrono::milliseconds(1));
      times.push_back(all[i]);
    }
    times.push_back(all.back());
    std::size_t nonempty = 0;
    for (const std::string owner : {"alice", "bob", "carol", "dave", "erin", "frank", "nobody"}) {
      for (const Timestamp t : times) {
        const AsOf as_of{.until = t, .owner = owner};
        auto fast = tokens_as_of(*store_, as_of);
        auto full = tokens_as_of_full(*store_, as_of);
        ASSERT_TRUE(fast.ok() && full.ok());
        ASSERT_EQ(encoded(*fast), encoded(*full)) << owner << " at " << format_rfc3339(t);
        nonempty += fast->empty() ? 0 : 1;
      }
      for (std::uint64_t seq = 0; seq <= store_->head().seq + 1; seq += 31) {
        const AsOf as_of{.until_seq = seq, .owner = owner};
        ASSERT_EQ(encoded(tokens_as_of(*store_, as_of).value()), encoded(tokens_as_of_full(*store_, as_of).value()))
            << owner << " up to seq " << seq;
      }
    }
    EXPECT_GT(nonempty, times.size());  // the comparison saw tokens, not only empty lists
    // By token (its index by token), at a seq bound and at a time.
    const std::string some_token = store_->read(20).value()->token_id;
    ASSERT_FALSE(some_token.empty());
    for (std::uint64_t seq : {0ul, 19ul, 20ul, 100ul, store_->head().seq}) {
      const AsOf as_of{.until_seq = seq, .token_id = some_token};
      EXPECT_EQ(encoded(tokens_as_of(*store_, as_of).value()), encoded(tokens_as_of_full(*store_, as_of).value()));
    }
  }

  std::uint32_t snapshot_every_ = OwnerSnapshots::kEvery;
  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<ReadModel> model_;
};

TEST_F(PointInTimeTest, TheOwnerIndexAnswersExactlyAsTheFullFold) {
  write_history();
  ASSERT_TRUE(AuditIndex::owner_index_complete(*store_).value());
  expect_same_as_full_fold();
}

TEST_F(PointInTimeTest, ADirectoryWithoutOwnerKeysFoldsTheLogThenIsBackFilledAtLoad) {
  write_history();
  // As a directory of an earlier release: no owner key, no marker.
  ASSERT_TRUE(store_->raw_write("audit_index", AuditIndex::kOwnerIndexMarker, std::nullopt).ok());
  ASSERT_TRUE(store_->state().erase_range(AuditIndex::kColumnFamily, "o", "p").ok());
  ASSERT_FALSE(AuditIndex::owner_index_complete(*store_).value());
  // This release appends (with its owner key) before any back-fill: not an error either.
  TokenSecrets secrets(test_key());
  TokenService tokens(*store_, *model_, secrets, 100);
  const RequestContext erin{{"erin", Via::session, {}}, {"127.0.0.1", "t", "r"}};
  ASSERT_TRUE(run_command(*store_, tokens.create(erin, "after the upgrade", 30, now_ms())).ok());
  expect_same_as_full_fold();  // the full fold, since the index cannot answer
  IntegrityReport checked = check_integrity(*store_, {});
  EXPECT_TRUE(checked.ok) << "owner keys are not checked before they are back-filled: " << checked.problem;

  reopen();
  ASSERT_TRUE(AuditIndex::owner_index_complete(*store_).value());
  std::vector<std::string> expected, owner_keys;
  ASSERT_TRUE(store_
                  ->read_range(1, UINT64_MAX,
                               [&](const Record& r) {
                                 if (!r.owner.empty())
                                   expected.push_back("o" + r.owner + std::string(1, '\0') + encode_be64(r.seq));
                                 return true;
                               })
                  .ok());
  for (const auto& key : model_->audit().dump()) {
    if (AuditIndex::is_owner_key(key)) owner_keys.push_back(key);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(owner_keys, expected);
  EXPECT_GT(expected.size(), 300u);
  expect_same_as_full_fold();
  checked = check_integrity(*store_, {});
  EXPECT_TRUE(checked.ok) << checked.problem;
}

TEST_F(PointInTimeTest, AMissingOrForgedOwnerKeyIsNamedByTheIntegrityCheck) {
  write_history();
  std::string victim;
  for (const auto& key : model_->audit().dump()) {
    if (AuditIndex::is_owner_key(key) && AuditIndex::seq_of_key(key) == 40) victim = key;
  }
  ASSERT_FALSE(victim.empty());
  ASSERT_TRUE(store_->raw_write("audit_index", victim, std::nullopt).ok());
  IntegrityReport r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "audit_index");
  EXPECT_EQ(r.first_bad_seq, 40u);
  EXPECT_NE(r.problem.find("owner"), std::string::npos) << r.problem;

  ASSERT_TRUE(store_->raw_write("audit_index", victim, "").ok());
  std::string forged = "omallory" + std::string(1, '\0') + encode_be64(41);
  ASSERT_TRUE(store_->raw_write("audit_index", forged, "").ok());
  r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "audit_index");
  EXPECT_EQ(r.first_bad_seq, 41u);
}

// Snapshots every 3 of an owner's records (or its row count, when larger), so that a short
// history has many.
class OwnerSnapshotTest : public PointInTimeTest {
 protected:
  void SetUp() override {
    snapshot_every_ = 3;
    PointInTimeTest::SetUp();
  }

  // A snapshot key of `owner` and its seq.
  std::pair<std::string, std::uint64_t> some_snapshot(const std::string& owner, std::size_t nth) {
    std::vector<std::string> keys;
    for (const auto& key : snapshot_keys()) {
      if (OwnerSnapshots::parse_key(key)->first == owner) keys.push_back(key);
    }
    EXPECT_GT(keys.size(), nth);
    if (keys.size() <= nth) return {};
    return {keys[nth], OwnerSnapshots::parse_key(keys[nth])->second};
  }
};

TEST_F(OwnerSnapshotTest, AsOfFromTheSnapshotsAnswersExactlyAsTheFullFold) {
  write_history();
  const auto keys = snapshot_keys();
  ASSERT_GT(keys.size(), 40u);
  ASSERT_TRUE(OwnerSnapshots::complete(store_->state()).value());
  // Spaced by at least max(3, the owner's rows at the time): never one per record.
  std::map<std::string, std::vector<std::uint64_t>> by_owner;
  for (const auto& key : keys) {
    auto [owner, seq] = *OwnerSnapshots::parse_key(key);
    EXPECT_EQ(store_->read(seq).value()->owner, owner) << "a snapshot is taken at a record of its owner";
    by_owner[owner].push_back(seq);
  }
  EXPECT_GE(by_owner.size(), 5u);
  expect_same_as_full_fold();
  EXPECT_TRUE(check_integrity(*store_, {}).ok);
}

TEST_F(OwnerSnapshotTest, TheSnapshotsAreWhatAsOfStartsFrom) {
  write_history();
  const auto [key, seq] = some_snapshot("alice", 3);
  auto rows = OwnerSnapshots::decode(store_->state().get(ReadModel::kStateFamily, key).value().value());
  ASSERT_TRUE(rows && !rows->empty());
  // The snapshot as an attacker would leave it: alice's oldest token at that moment gone.
  std::string altered;
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const std::string row = TokenTable::encode((*rows)[i]);
    const auto n = static_cast<std::uint32_t>(row.size());
    altered += std::string{char(n >> 24), char(n >> 16), char(n >> 8), char(n)} + row;
  }
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, key, altered).ok());
  const AsOf as_of{.until_seq = seq, .owner = "alice"};
  EXPECT_EQ(tokens_as_of(*store_, as_of).value().size() + 1, tokens_as_of_full(*store_, as_of).value().size())
      << "as_of answers from the snapshot, not from a fold of alice's whole history";

  IntegrityReport r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "owner_snapshot");
  EXPECT_EQ(r.first_bad_seq, seq);
  EXPECT_NE(r.problem.find("altered"), std::string::npos) << r.problem;
}

TEST_F(OwnerSnapshotTest, AnAddedOrMisplacedSnapshotIsNamed) {
  write_history();
  const auto [key, seq] = some_snapshot("bob", 1);
  const std::string value = store_->state().get(ReadModel::kStateFamily, key).value().value();
  // bob's rows filed as mallory's, at bob's record.
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, OwnerSnapshots::key("mallory", seq), value).ok());
  IntegrityReport r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "owner_snapshot");
  EXPECT_EQ(r.first_bad_seq, seq);
  EXPECT_NE(r.problem.find("mallory"), std::string::npos) << r.problem;
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, OwnerSnapshots::key("mallory", seq), std::nullopt).ok());
  ASSERT_TRUE(check_integrity(*store_, {}).ok);

  // One past the head: what a cut of the newest records leaves behind.
  const std::uint64_t past = store_->head().seq + 5;
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, OwnerSnapshots::key("bob", past), value).ok());
  r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "owner_snapshot");
  EXPECT_EQ(r.first_bad_seq, past);
  // And a key under the snapshots' prefix that is none.
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, OwnerSnapshots::key("bob", past), std::nullopt).ok());
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, "s/junk", "x").ok());
  r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "owner_snapshot");
}

TEST_F(OwnerSnapshotTest, RestartsDoNotPostponeAnOwnersSnapshot) {
  // gina's three records (every = 3) come one per process: the count goes on from the owner keys.
  const RequestContext admin{{"admin", Via::session, {}}, {"127.0.0.1", "test", "r"}};
  const RequestContext gina{{"gina", Via::session, {}}, {"127.0.0.1", "t", "r"}};
  std::string id;
  for (int step = 0; step < 3; ++step) {
    TokenSecrets secrets(test_key());
    TokenService tokens(*store_, *model_, secrets, 100);
    UserService users(*store_, *model_);
    if (step == 0) {
      ASSERT_TRUE(run_command(*store_, users.create(admin, "gina", "password-of-gina", {"api-tokens"})).ok());
      auto row = run_command(*store_, tokens.create(gina, "gina's", 30, now_ms()));
      ASSERT_TRUE(row.ok());
      id = row->state.id;
    } else {
      ASSERT_TRUE(run_command(*store_, tokens.reveal(gina, id)).ok());
    }
    EXPECT_EQ(snapshot_keys().size(), step < 2 ? 0u : 1u) << "after gina's record " << step + 1;
    reopen();
  }
  ASSERT_EQ(snapshot_keys().size(), 1u);
  EXPECT_EQ(OwnerSnapshots::parse_key(snapshot_keys()[0])->second, store_->head().seq);
  for (std::uint64_t seq = 0; seq <= store_->head().seq; ++seq) {
    const AsOf as_of{.until_seq = seq, .owner = "gina"};
    EXPECT_EQ(encoded(tokens_as_of(*store_, as_of).value()), encoded(tokens_as_of_full(*store_, as_of).value()));
  }
}

TEST_F(OwnerSnapshotTest, ATokenRecordNamingAnotherOwnerIsNamed) {
  write_history();
  // A writer's mistake the chain cannot catch: an edit of one of alice's tokens filed as erin's.
  std::string alices;
  for (const auto& row : model_->tokens().list("alice")) alices = row.state.id;
  ASSERT_FALSE(alices.empty());
  const RequestContext alice{{"alice", Via::session, {}}, {"127.0.0.1", "t", "r"}};
  auto appended = store_->append({.stream = alices,
                                  .events = {TokenDescriptionChanged{"filed as erin's"}},
                                  .actor = alice.actor,
                                  .source = alice.source,
                                  .owner = "erin"});
  ASSERT_TRUE(appended.ok());
  IntegrityReport r = check_integrity(*store_, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "owner_snapshot");
  EXPECT_EQ(r.first_bad_seq, appended->first_seq);
  EXPECT_NE(r.problem.find("alice's"), std::string::npos) << r.problem;
}

TEST_F(OwnerSnapshotTest, ADirectoryWithoutSnapshotsIsFoldedOnceFromSeqOneAtAWritableLoad) {
  write_history();
  const auto written = snapshot_keys();
  // As a directory of a release before them: no snapshot, no marker, a checkpoint at the head.
  ASSERT_TRUE(model_->save_checkpoint().ok());
  ASSERT_TRUE(store_->state().erase_range(ReadModel::kStateFamily, "s", "t").ok());
  ASSERT_TRUE(snapshot_keys().empty());
  expect_same_as_full_fold();  // the owner's whole history, folded

  reopen(/*read_only=*/true);  // cannot write them: answers the same, writes nothing
  EXPECT_TRUE(snapshot_keys().empty());
  EXPECT_FALSE(OwnerSnapshots::complete(store_->state()).value());
  expect_same_as_full_fold();

  reopen();
  EXPECT_EQ(snapshot_keys(), written) << "the fold from seq 1 writes the snapshots the appends wrote";
  EXPECT_TRUE(OwnerSnapshots::complete(store_->state()).value());
  EXPECT_EQ(ReadModel::saved_checkpoint_seq(*store_).value(), store_->head().seq);
  expect_same_as_full_fold();
  EXPECT_TRUE(check_integrity(*store_, {}).ok);

  // The next start loads the checkpoint: the same snapshots, none added.
  reopen();
  EXPECT_EQ(snapshot_keys(), written);

  // Dropping the checkpoint (a start without one) keeps them, and its fold from seq 1 does not
  // write them again: one removed here stays removed.
  ASSERT_TRUE(ReadModel::drop_saved_state(*store_).ok());
  EXPECT_EQ(ReadModel::saved_checkpoint_seq(*store_).value(), 0u);
  EXPECT_TRUE(OwnerSnapshots::complete(store_->state()).value());
  auto fewer = written;
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, fewer.back(), std::nullopt).ok());
  fewer.pop_back();
  reopen();
  EXPECT_EQ(snapshot_keys(), fewer);
  expect_same_as_full_fold();
}

TEST_F(PointInTimeTest, TheTimeToSeqSearchFindsTheLastRecordAtOrBeforeAMoment) {
  write_history();
  std::vector<Timestamp> at{Timestamp{}};  // at[seq]
  ASSERT_TRUE(store_
                  ->read_range(1, UINT64_MAX,
                               [&](const Record& r) {
                                 at.push_back(r.at);
                                 return true;
                               })
                  .ok());
  auto linear = [&](Timestamp t) {
    std::uint64_t last = 0;
    for (std::uint64_t seq = 1; seq < at.size(); ++seq) {
      if (at[seq] <= t) last = seq;
    }
    return last;
  };
  std::size_t ties = 0;
  for (std::uint64_t seq = 1; seq < at.size(); ++seq) {
    for (const Timestamp t :
         {at[seq] - std::chrono::milliseconds(1), at[seq], at[seq] + std::chrono::milliseconds(1)}) {
      ASSERT_EQ(last_seq_at_or_before(*store_, t).value(), linear(t)) << format_rfc3339(t);
    }
    ties += seq + 1 < at.size() && at[seq + 1] == at[seq] ? 1 : 0;
  }
  EXPECT_GT(ties, 0u) << "several records share a millisecond: the search must land on the last of them";
  EXPECT_EQ(last_seq_at_or_before(*store_, at[1] - std::chrono::hours(1)).value(), 0u);
  EXPECT_EQ(last_seq_at_or_before(*store_, at.back() + std::chrono::hours(1)).value(), at.size() - 1);
}

TEST(PointInTimeEmptyTest, AnEmptyLogHasNoSeqAtAnyTime) {
  testing::TempDir dir;
  auto store = EventStore::open(dir.path(), {.extra_column_families = ReadModel::column_families()}).value();
  EXPECT_EQ(last_seq_at_or_before(*store, now_ms()).value(), 0u);
  ReadModel model(*store);
  ASSERT_TRUE(model.load().ok());
  EXPECT_TRUE(tokens_as_of(*store, {.until = now_ms(), .owner = "alice"}).value().empty());
}

}  // namespace
}  // namespace tl
