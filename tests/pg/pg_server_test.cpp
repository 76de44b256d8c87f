// End to end on PostgreSQL (issue 19): the real server with --log postgresql://…, alone and as
// two nodes on one database, and a third node with another master key refused.
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/test_server.hpp"
#include "eventstore/pg_connection.hpp"
#include "pg/pg_instance.hpp"

namespace e2e {
namespace {

namespace fs = std::filesystem;

StartOptions on(const std::string& url) { return {.extra_args = {"--log", url, "--pg-allow-async"}}; }

std::int64_t stored_events(const std::string& url) {
  auto conn = tl::PgConn::connect(url, {}).value();
  return conn->exec("SELECT count(*) FROM tl_events").value().int64(0, 0);
}

// Polls (at most 10 s) until `server` answers introspection of `code` with active == `active`;
// returns how long that took, or nullopt.
std::optional<std::chrono::milliseconds> await_active(const TestServer& server, const std::string& code, bool active) {
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    const Response r = introspect(server, code);
    if (r.status == 200 && r.json()["active"].boolean() == active) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void copy_keys(const TestServer& from, const TestServer& to) {
  fs::create_directories(to.data_dir());
  fs::permissions(to.data_dir(), fs::perms::owner_all, fs::perm_options::replace);
  for (const char* name : {"master.key", "signing.key", "introspection.secret"}) {
    if (!fs::exists(fs::path(from.data_dir()) / name)) continue;  // e.g. the secret given in the environment
    fs::copy_file(fs::path(from.data_dir()) / name, fs::path(to.data_dir()) / name,
                  fs::copy_options::overwrite_existing);
  }
}

TEST(PgServerTest, TheServerRunsOnPostgreSQLAndKeepsEverythingAcrossARestart) {
  const std::string url = tl::testing::PgInstance::get().new_database();
  TestServer server;
  server.start(on(url));
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "on postgres", 15)["id"].str();
  const std::string code = reveal(alice, id);
  const Response active = introspect(server, code);
  ASSERT_EQ(active.status, 200) << describe(active);
  EXPECT_TRUE(active.json()["active"].boolean());
  // The log is in PostgreSQL, not in the data directory.
  EXPECT_FALSE(fs::exists(fs::path(server.data_dir()) / "db"));
  // The introspection's use is recorded a moment later (TokenUsed, coalesced): wait for it, or it
  // may land after `before` (CI's full run saw 6 domain events after the restart, 5 before).
  for (int i = 0; i < 250 && !alice.get("/api/v1/tokens/" + id).json()["last_used_at"].is_string(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(alice.get("/api/v1/tokens/" + id).json()["last_used_at"].is_string()) << "the use was never recorded";
  const std::string before = chain_head(alice);

  ASSERT_EQ(server.restart(on(url)), 0) << server.log();
  EXPECT_TRUE(introspect(server, code).json()["active"].boolean());
  HttpClient again = login(server, "alice");
  EXPECT_EQ(chain_head(again), before);  // the same domain events, the same hashes
  const Response verified = again.get("/api/v1/audit/verify");
  ASSERT_EQ(verified.status, 200) << describe(verified);
  EXPECT_TRUE(verified.json()["ok"].boolean()) << verified.body;
  // Every event the trail shows is a row of tl_events.
  EXPECT_EQ(static_cast<std::int64_t>(audit_events(again).size()), stored_events(url));
  EXPECT_EQ(again.del("/api/v1/tokens/" + id).status, 204);
  EXPECT_FALSE(introspect(server, code).json()["active"].boolean());
}

// Two nodes on one new database, with the keys of the first; an admin signed in on node 1 has
// made alice (api-tokens).
struct TwoNodes {
  TwoNodes() {
    const std::string url = tl::testing::PgInstance::get().new_database();
    one.start(on(url));
    copy_keys(one, two);
    two.start(on(url));
    admin.emplace(login(one, "admin", kAdminPassword));
    create_user(*admin, "alice", {"api-tokens"});
  }
  TestServer one, two;
  std::optional<HttpClient> admin;
};

TEST(PgServerTest, TwoNodesOnOneDatabaseSeeEachOthersWrites) {
  TwoNodes nodes;
  TestServer &one = nodes.one, &two = nodes.two;
  HttpClient& admin = *nodes.admin;
  // The user created through node 1 signs in on node 2.
  std::optional<HttpClient> alice_two;
  for (int i = 0; i < 100 && !alice_two; ++i) {
    try {
      alice_two.emplace(login(two, "alice"));
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(alice_two) << two.log();
  HttpClient alice_one = login(one, "alice");
  const std::string id = create_token(alice_one, "made on node 1", 15)["id"].str();
  // Concurrent edits through both nodes at the version both hold: exactly one wins. (Before any
  // introspection, whose TokenUsed would move the version under both.)
  const std::string path = "/api/v1/tokens/" + id;
  const std::string etag = alice_one.get(path).header("ETag");
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 500 && alice_two->get(path).header("ETag") != etag; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(alice_two->get(path).header("ETag"), etag);
  std::cout << "node 2 held node 1's new token after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
            << " ms\n";
  Response a, b;
  std::thread first([&] { a = alice_one.patch(path, R"({"description":"from one"})", {{"If-Match", etag}}); });
  std::thread second([&] { b = alice_two->patch(path, R"({"description":"from two"})", {{"If-Match", etag}}); });
  first.join();
  second.join();
  ASSERT_EQ((a.status == 200) + (b.status == 200), 1) << describe(a) << describe(b);
  const int loser = a.status == 200 ? b.status : a.status;
  EXPECT_TRUE(loser == 412 || loser == 409) << describe(a) << describe(b);
  const std::string winner = (a.status == 200 ? a : b).json()["description"].str();
  for (int i = 0; i < 500 && alice_two->get(path).json()["description"].str() != winner; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(alice_two->get(path).json()["description"].str(), winner);
  EXPECT_EQ(alice_one.get(path).json()["description"].str(), winner);
  // A code shown through node 1 introspects active on node 2.
  const std::string code = reveal(alice_one, id);
  const auto seen = await_active(two, code, true);
  ASSERT_TRUE(seen) << "node 2 never saw the token";
  // A delete on node 2 makes the code inactive on node 1.
  const Response deleted = alice_two->del(path);
  ASSERT_EQ(deleted.status, 204) << describe(deleted);
  const auto gone = await_active(one, code, false);
  ASSERT_TRUE(gone) << "node 1 never saw the delete";
  std::cout << "node 1 saw node 2's delete after " << gone->count() << " ms\n";

  // Sessions are shared: a cookie of node 1 is good on node 2, and a sign-out on node 2 ends it
  // on node 1.
  HttpClient carried(two.port());
  carried.set_cookie("tl_session", alice_one.cookie("tl_session"));
  const Response me = carried.get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << describe(me);
  EXPECT_EQ(me.json()["user"].str(), "alice");
  EXPECT_EQ(carried.del("/api/v1/session").status, 204);
  EXPECT_EQ(alice_one.get("/api/v1/me").status, 401);
}

// A write sent to one node right after a write acknowledged by the other is decided on what the
// other wrote (behind a load balancer, the next request of a client lands anywhere): a refusal is
// decided again once the node has caught up with the log (CommandRun's barrier), and an append
// at a stale version conflicts and is decided again.
TEST(PgServerTest, AWriteRightAfterAnotherNodesWriteSeesIt) {
  TwoNodes nodes;
  TestServer &one = nodes.one, &two = nodes.two;
  HttpClient& admin = *nodes.admin;
  HttpClient alice_one = login(one, "alice");
  HttpClient alice_two(two.port());
  alice_two.set_cookie("tl_session", alice_one.cookie("tl_session"));  // sessions are shared
  for (int round = 0; round < 10; ++round) {
    HttpClient& a = round % 2 == 0 ? alice_one : alice_two;
    HttpClient& b = round % 2 == 0 ? alice_two : alice_one;
    const std::string path = "/api/v1/tokens/" + create_token(a, "made on one node", 15)["id"].str();
    const Response shown = b.post(path + "/reveal");
    ASSERT_EQ(shown.status, 200) << "round " << round << ": " << describe(shown);
    const Response edited = a.patch(path, R"({"description":"edited on the first"})");
    ASSERT_EQ(edited.status, 200) << "round " << round << ": " << describe(edited);
    const Response matched =
        b.patch(path, R"({"description":"edited on the other"})", {{"If-Match", edited.header("ETag")}});
    ASSERT_EQ(matched.status, 200) << "round " << round << ": " << describe(matched);
    const Response deleted = a.del(path);
    ASSERT_EQ(deleted.status, 204) << "round " << round << ": " << describe(deleted);
    const Response again = b.del(path);
    ASSERT_EQ(again.status, 404) << "round " << round << ": " << describe(again);
  }
  // A sign-in is judged on the user as the other node left her: created, then disabled.
  HttpClient admin_two = login(two, "admin", kAdminPassword);
  for (int round = 0; round < 6; ++round) {
    HttpClient& creator = round % 2 == 0 ? admin : admin_two;
    const TestServer& other = round % 2 == 0 ? two : one;
    const std::string name = "user" + std::to_string(round);
    create_user(creator, name, {"api-tokens"});
    const std::string body = R"({"username":")" + name + R"(","password":)" + json_str(password_of(name)) + "}";
    const Response signed_in = other.client().post("/api/v1/session", body);
    ASSERT_EQ(signed_in.status, 200) << "round " << round << ": " << describe(signed_in);
    ASSERT_EQ(creator.patch("/api/v1/users/" + name, R"({"disabled":true})").status, 200);
    const Response refused = other.client().post("/api/v1/session", body);
    ASSERT_EQ(refused.status, 403) << "round " << round << ": " << describe(refused);
    // Enabled through one node, disabled at once through the other: the other must not take the
    // disable for a change that is already made (200 and nothing written).
    ASSERT_EQ(creator.patch("/api/v1/users/" + name, R"({"disabled":false})").status, 200);
    HttpClient other_admin = login(other, "admin", kAdminPassword);
    ASSERT_EQ(other_admin.patch("/api/v1/users/" + name, R"({"disabled":true})").status, 200);
    const Response still = other.client().post("/api/v1/session", body);
    ASSERT_EQ(still.status, 403) << "round " << round << ": the disable was lost: " << describe(still);
  }
  // An admin removed from admins through one node is no admin on the other a moment later.
  for (int round = 0; round < 6; ++round) {
    HttpClient& root = round % 2 == 0 ? admin : admin_two;
    const TestServer& other = round % 2 == 0 ? two : one;
    const std::string name = "eve" + std::to_string(round);
    create_user(root, name, {"admins"});
    HttpClient eve = login(other, name);
    ASSERT_EQ(root.patch("/api/v1/users/" + name, R"({"groups":["auditors"]})").status, 200);
    const Response grabbed = eve.patch("/api/v1/users/" + name, R"({"groups":["admins"]})");
    ASSERT_EQ(grabbed.status, 403) << "round " << round << ": " << describe(grabbed);
  }
}

TEST(PgServerTest, ANodeWithAnotherMasterKeyRefusesToStart) {
  const std::string url = tl::testing::PgInstance::get().new_database();
  TestServer one, stranger;
  one.start(on(url));
  one.stop();
  EXPECT_THROW(stranger.start(on(url)), std::runtime_error);
  EXPECT_NE(stranger.log().find("master key"), std::string::npos) << stranger.log();
  EXPECT_EQ(stored_events(url) > 0, true);
}

// While the database is out of reach a node serves introspection and reads from memory, answers
// writes 503 with nothing appended, says "stale" in /readyz after --max-staleness, and picks up
// again by itself when the database is back.
TEST(PgServerTest, ANodeServesFromMemoryWhileTheDatabaseIsGone) {
  auto pg = tl::testing::PgInstance::start();
  const std::string url = pg->new_database();
  TestServer server;
  server.start({.extra_args = {"--log", url, "--pg-allow-async", "--max-staleness", "1"}});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens"});
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "outlives the outage", 15)["id"].str();
  const std::string code = reveal(alice, id);
  EXPECT_EQ(server.client().get("/readyz").json().has("stale"), false);

  pg->kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const Response ready = server.client().get("/readyz");
  ASSERT_TRUE(ready.json().has("stale")) << describe(ready);
  EXPECT_GE(ready.json()["stale"]["seconds_since_database"].integer(), 1);
  EXPECT_TRUE(introspect(server, code).json()["active"].boolean());
  const Response listed = alice.get("/api/v1/tokens");  // the session is known from before
  EXPECT_EQ(listed.status, 200) << describe(listed);
  const Response refused = alice.post("/api/v1/tokens", token_body("during the outage", 15));
  EXPECT_EQ(refused.status, 503) << describe(refused);
  // Sessions do not change while the database is gone: a sign-in would hand out a cookie no node
  // knows, a sign-out would leave the session standing on the other nodes. Both say "later".
  HttpClient bob = server.client();
  const Response signed_in =
      bob.post("/api/v1/session", R"({"username":"alice","password":)" + json_str(password_of("alice")) + "}");
  EXPECT_EQ(signed_in.status, 503) << describe(signed_in);
  EXPECT_TRUE(bob.cookie("tl_session").empty());
  const Response signed_out = alice.del("/api/v1/session");
  EXPECT_EQ(signed_out.status, 503) << describe(signed_out);
  EXPECT_FALSE(signed_out.header("Retry-After").empty());
  // No answer names the database's address (libpq's words go to the server's log), not even to a
  // caller who is not signed in (a sign-in is a write: it waits for the database first).
  const Response anonymous = server.client().post("/api/v1/session", R"({"username":"x","password":"y"})");
  EXPECT_EQ(anonymous.status, 503) << describe(anonymous);
  for (const Response* answer : {&refused, &signed_in, &signed_out, &anonymous}) {
    EXPECT_EQ(answer->body.find(std::to_string(pg->port())), std::string::npos) << answer->body;
    EXPECT_EQ(answer->body.find("connection to server"), std::string::npos) << answer->body;
  }

  pg->restart();
  Response created;
  for (int i = 0; i < 100; ++i) {
    created = alice.post("/api/v1/tokens", token_body("after the outage", 15));
    if (created.status == 201) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(created.status, 201) << describe(created);
  bool fresh = false;
  for (int i = 0; i < 50 && !fresh; ++i) {
    fresh = !server.client().get("/readyz").json().has("stale");
    if (!fresh) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(fresh);
  // Nothing of the refused write was kept.
  const Json tokens = alice.get("/api/v1/tokens").json();
  std::size_t during = 0;
  for (const Json& t : tokens["tokens"].items()) during += t["description"].str() == "during the outage";
  EXPECT_EQ(during, 0u);
}

}  // namespace
}  // namespace e2e
