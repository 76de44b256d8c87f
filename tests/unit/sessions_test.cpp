#include "service/sessions.hpp"

#include <gtest/gtest.h>

#include "eventstore/event_store.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

using std::chrono::minutes;
const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

TEST(SessionStoreTest, SessionsEndWhenIdleOrOld) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string id = sessions.create("alice", kT0).value();
  EXPECT_GE(id.size(), 40u);
  EXPECT_EQ(sessions.resolve(id, kT0 + minutes{29}), "alice");
  EXPECT_EQ(sessions.resolve(id, kT0 + minutes{58}), "alice");  // each use extends the idle time
  EXPECT_FALSE(sessions.resolve(id, kT0 + minutes{121}));       // but not the lifetime
  const std::string idle = sessions.create("bob", kT0).value();
  EXPECT_FALSE(sessions.resolve(idle, kT0 + minutes{31}));
  EXPECT_FALSE(sessions.resolve("made-up", kT0));
}

TEST(SessionStoreTest, LogoutAndUserRemovalEndSessions) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a1 = sessions.create("alice", kT0).value(), a2 = sessions.create("alice", kT0).value();
  const std::string b = sessions.create("bob", kT0).value();
  ASSERT_TRUE(sessions.remove(a1));
  EXPECT_FALSE(sessions.resolve(a1, kT0));
  EXPECT_TRUE(sessions.resolve(a2, kT0));
  sessions.remove_user("alice");
  EXPECT_FALSE(sessions.resolve(a2, kT0));
  EXPECT_EQ(sessions.resolve(b, kT0), "bob");
}

TEST(SessionStoreTest, RemoveUserExceptKeepsOnlyTheGivenSession) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a1 = sessions.create("alice", kT0).value(), a2 = sessions.create("alice", kT0).value();
  const std::string b = sessions.create("bob", kT0).value();
  sessions.remove_user_except("alice", a2);
  EXPECT_FALSE(sessions.resolve(a1, kT0));
  EXPECT_EQ(sessions.resolve(a2, kT0), "alice");
  EXPECT_EQ(sessions.resolve(b, kT0), "bob");
}

TEST(SessionStoreTest, AnExpiredSessionSaysWhoseAndWhyOnce) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string idle = sessions.create("alice", kT0).value();
  SessionStore::Ended ended;
  EXPECT_FALSE(sessions.resolve(idle, kT0 + minutes{31}, &ended));
  EXPECT_EQ(ended.username, "alice");
  EXPECT_EQ(ended.reason, "idle");
  SessionStore::Ended again;
  EXPECT_FALSE(sessions.resolve(idle, kT0 + minutes{32}, &again));
  EXPECT_TRUE(again.username.empty()) << "its end was told once";

  const std::string old = sessions.create("bob", kT0).value();
  for (int m = 20; m <= 120; m += 20) ASSERT_TRUE(sessions.resolve(old, kT0 + minutes{m}));
  EXPECT_FALSE(sessions.resolve(old, kT0 + minutes{121}, &ended));
  EXPECT_EQ(ended.username, "bob");
  EXPECT_EQ(ended.reason, "lifetime");
}

TEST(SessionStoreTest, SweepEndsExpiredSessionsAndReportsEachOnce) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a = sessions.create("alice", kT0).value();
  ASSERT_TRUE(sessions.create("bob", kT0 + minutes{20}));
  auto ended = sessions.sweep(kT0 + minutes{31});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].username, "alice");
  EXPECT_EQ(ended[0].reason, "idle");
  EXPECT_TRUE(sessions.sweep(kT0 + minutes{31}).empty()) << "reported once";
  SessionStore::Ended found;
  EXPECT_FALSE(sessions.resolve(a, kT0 + minutes{31}, &found));
  EXPECT_TRUE(found.username.empty()) << "the sweep already ended it";
  EXPECT_EQ(sessions.sweep(kT0 + minutes{51}).size(), 1u);
}

TEST(SessionStoreTest, RemovalsSayWhatTheyEnded) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a1 = sessions.create("alice", kT0).value(), a2 = sessions.create("alice", kT0).value();
  const std::string a3 = sessions.create("alice", kT0).value();
  EXPECT_EQ(sessions.remove(a1).value(), "alice");
  EXPECT_FALSE(sessions.remove(a1).value()) << "a signed-out session ends once";
  EXPECT_EQ(sessions.remove_user_except("alice", a2), 1u);
  EXPECT_EQ(sessions.remove_user("alice"), 1u);
  EXPECT_EQ(sessions.remove_user("alice"), 0u);
  EXPECT_FALSE(sessions.resolve(a3, kT0));
}

// Servers that share a log (PostgreSQL, issue 19) share the sessions through its state: here two
// stores over one embedded log stand for two servers.
TEST(SessionStoreTest, SharedSessionsAreOneSetForEveryServerOfTheLog) {
  testing::TempDir dir;
  auto log = EventStore::open(dir.path(), {.extra_column_families = {"sessions"}}).value();
  SessionStore one(minutes{30}, minutes{120}, shared_session_table(*log));
  SessionStore two(minutes{30}, minutes{120}, shared_session_table(*log));
  const std::string id = one.create("alice", kT0).value();
  EXPECT_EQ(two.resolve(id, kT0 + minutes{1}), "alice");
  EXPECT_EQ(two.resolve(id, kT0 + minutes{25}), "alice");  // use on one server extends it on all
  EXPECT_EQ(one.resolve(id, kT0 + minutes{50}), "alice");
  two.reauthenticated(id, kT0 + minutes{51});
  EXPECT_EQ(one.authenticated_at(id), kT0 + minutes{51});
  EXPECT_EQ(two.remove(id).value(), "alice");  // a sign-out on one server ends it on all
  EXPECT_FALSE(one.resolve(id, kT0 + minutes{52}));
  const std::string bob = one.create("bob", kT0).value();
  EXPECT_TRUE(two.remove_all().empty());  // a stopping server leaves shared sessions standing
  EXPECT_EQ(one.resolve(bob, kT0 + minutes{1}), "bob");
  EXPECT_EQ(two.remove_user("bob"), 1u);
  EXPECT_FALSE(one.active(bob, kT0 + minutes{2}));
  // An idle session ends for every server, and its end is reported once, by the sweeper.
  const std::string carol = one.create("carol", kT0).value();
  const auto ended = two.sweep(kT0 + minutes{31});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].username, "carol");
  EXPECT_TRUE(one.sweep(kT0 + minutes{32}).empty());
  EXPECT_FALSE(one.resolve(carol, kT0 + minutes{32}));
  // Only a hash of an id is stored.
  const std::string dave = one.create("dave", kT0).value();
  ASSERT_TRUE(log->scan("sessions", {},
                        [&](std::string_view key, std::string_view value) {
                          EXPECT_EQ(key.find(dave), std::string_view::npos);
                          EXPECT_EQ(value.find(dave), std::string_view::npos);
                          return true;
                        })
                  .ok());
}

// A shared table whose database refuses a change (out of reach): a session no server would know
// is not handed out, and a sign-out that other servers would not see is not reported done.
class RefusingTable final : public SessionTable {
 public:
  explicit RefusingTable(const bool& refuse) : refuse_(refuse) {}
  std::optional<StoredSession> get(const std::string& key) override { return inner_->get(key); }
  bool put(const std::string& key, const StoredSession& session) override {
    return !refuse_ && inner_->put(key, session);
  }
  bool erase(const std::string& key) override { return !refuse_ && inner_->erase(key); }
  Refreshed refresh(const std::string& key, const StoredSession& session) override {
    return refuse_ ? Refreshed::refused : inner_->refresh(key, session);
  }
  std::vector<std::pair<std::string, StoredSession>> all() override { return inner_->all(); }
  bool shared() const override { return true; }
  bool sweeps() const override { return true; }

 private:
  const bool& refuse_;
  std::unique_ptr<SessionTable> inner_ = memory_session_table();
};

TEST(SessionStoreTest, ASessionChangeTheStorageRefusedIsNotReportedDone) {
  bool refuse = false;
  SessionStore sessions(minutes{30}, minutes{120}, std::make_unique<RefusingTable>(refuse));
  const std::string id = sessions.create("alice", kT0).value();
  const std::string idle = sessions.create("bob", kT0).value();
  refuse = true;
  auto made = sessions.create("carol", kT0);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::unavailable);
  auto out = sessions.remove(id);
  ASSERT_FALSE(out) << "a sign-out the other servers would not see";
  EXPECT_EQ(out.error().code, ErrorCode::unavailable);
  EXPECT_TRUE(sessions.sweep(kT0 + minutes{31}).empty()) << "an end not stored is not recorded as one";
  EXPECT_EQ(sessions.remove_user("bob"), 0u);
  refuse = false;
  EXPECT_EQ(sessions.remove(id).value(), "alice");  // the retry stores it
  const auto ended = sessions.sweep(kT0 + minutes{31});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].username, "bob");
  EXPECT_FALSE(sessions.resolve(idle, kT0 + minutes{31}));
}

// Another server ends the session (a sign-out) right after this one read it to serve a request:
// this server's write-back of the last use must not bring the session back for every server.
class SignedOutElsewhereTable final : public SessionTable {
 public:
  std::optional<StoredSession> get(const std::string& key) override {
    auto read = inner_->get(key);
    if (sign_out_after_next_read) {
      inner_->erase(key);
      sign_out_after_next_read = false;
    }
    return read;
  }
  bool put(const std::string& key, const StoredSession& session) override { return inner_->put(key, session); }
  bool erase(const std::string& key) override { return inner_->erase(key); }
  Refreshed refresh(const std::string& key, const StoredSession& session) override {
    return inner_->refresh(key, session);
  }
  std::vector<std::pair<std::string, StoredSession>> all() override { return inner_->all(); }
  bool shared() const override { return true; }
  bool sweeps() const override { return true; }
  bool sign_out_after_next_read = false;

 private:
  std::unique_ptr<SessionTable> inner_ = memory_session_table();
};

TEST(SessionStoreTest, ASessionSignedOutOnAnotherServerMeanwhileIsNotBroughtBack) {
  auto owned = std::make_unique<SignedOutElsewhereTable>();
  SignedOutElsewhereTable& table = *owned;
  SessionStore sessions(minutes{30}, minutes{120}, std::move(owned));
  const std::string id = sessions.create("alice", kT0).value();
  table.sign_out_after_next_read = true;
  EXPECT_FALSE(sessions.resolve(id, kT0 + minutes{5})) << "the write-back found the session gone";
  EXPECT_TRUE(table.all().empty()) << "the session was written back after its sign-out";
  EXPECT_FALSE(sessions.resolve(id, kT0 + minutes{6}));
  // Re-authentication's write-back too.
  const std::string again = sessions.create("alice", kT0).value();
  table.sign_out_after_next_read = true;
  sessions.reauthenticated(again, kT0 + minutes{1});
  EXPECT_TRUE(table.all().empty());
}

}  // namespace
}  // namespace tl
