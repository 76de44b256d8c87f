// The audit trail as auditors take it away: the live stream (SSE) with reconnection, the
// streamed export, point-in-time token lists, and signed checkpoints in verify.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

#include "test_server.hpp"

namespace e2e {
namespace {

// Opens GET /api/v1/audit/stream on a raw socket and collects the ids of the events it sends
// until `want` have come or `limit` has passed; then hangs up (as a browser's EventSource would).
std::vector<std::uint64_t> read_stream(unsigned short port, const std::string& cookie, const std::string& last_id,
                                       std::size_t want, std::chrono::seconds limit) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req =
      "GET /api/v1/audit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: tl_session=" +
      cookie + "\r\n";
  if (!last_id.empty()) req += "Last-Event-ID: " + last_id + "\r\n";
  req += "\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string received;
  std::vector<std::uint64_t> ids;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (ids.size() < want && std::chrono::steady_clock::now() < deadline) {
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) received.append(buf, static_cast<std::size_t>(n));
    ids.clear();
    static const std::regex id_line("\nid: (\\d+)\n");
    for (std::sregex_iterator it(received.begin(), received.end(), id_line), end; it != end; ++it) {
      ids.push_back(std::stoull((*it)[1]));
    }
  }
  ::close(fd);
  if (received.find("text/event-stream") == std::string::npos)
    throw std::runtime_error("not an event stream: " + received);
  return ids;
}

class AuditStreamE2E : public ServerTest {};

TEST_F(AuditStreamE2E, ReconnectingWithLastEventIdMissesNothing) {
  HttpClient alice = login(server, "alice");
  const std::string cookie = alice.cookie("tl_session");
  // Every event, access events included (the stream sends them all): the head's seq.
  const auto total = [&] {
    return static_cast<std::size_t>(alice.get("/api/v1/audit/verify").json()["head"]["seq"].integer());
  };

  // The backlog first, then events appended while connected arrive live.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    HttpClient carol = login(server, "carol");
    for (int i = 0; i < 3; ++i) create_token(carol, "live " + std::to_string(i), 5);
  });
  const std::size_t before = total();
  auto first = read_stream(server.port(), cookie, "", before + 3, std::chrono::seconds(15));
  writer.join();
  ASSERT_GE(first.size(), before + 3);

  // Disconnected: more happens. Reconnecting from the last id seen gets exactly the rest.
  HttpClient carol = login(server, "carol");
  for (int i = 0; i < 4; ++i) create_token(carol, "while away " + std::to_string(i), 5);
  const std::size_t now_total = total();
  auto second = read_stream(server.port(), cookie, std::to_string(first.back()), now_total - first.back(),
                            std::chrono::seconds(15));
  std::vector<std::uint64_t> all = first;
  all.insert(all.end(), second.begin(), second.end());
  // At least the head counted before reconnecting (access events, such as the stream's own
  // AuditRead, may land meanwhile and come too).
  ASSERT_GE(all.size(), now_total);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1) << "every seq exactly once, in order";
}

TEST_F(AuditStreamE2E, ExportIsTheWholeTrailInBothFormats) {
  HttpClient alice = login(server, "alice");
  for (int i = 0; i < 5; ++i) create_token(alice, "export " + std::to_string(i), 5);
  const Response jsonl = alice.get("/api/v1/audit/export?format=jsonl");
  ASSERT_EQ(jsonl.status, 200);
  EXPECT_EQ(jsonl.header("transfer-encoding"), "chunked");
  // Every record up to the head it was bound at.
  std::smatch bound;
  const std::string head_header = jsonl.header("tokenledger-export-head");
  ASSERT_TRUE(std::regex_search(head_header, bound, std::regex("seq=(\\d+)"))) << head_header;
  std::size_t lines = 0;
  for (char c : jsonl.body) lines += c == '\n';
  EXPECT_EQ(lines, std::stoull(bound[1].str()));
  EXPECT_GE(lines, static_cast<std::size_t>(audit_event_count(alice)));
  EXPECT_EQ(Json::parse(jsonl.body.substr(0, jsonl.body.find('\n')))["seq"].num(), 1);
  const Response csv = alice.get("/api/v1/audit/export?format=csv&type=TokenCreated");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("seq,at,type,", 0), 0u);
  std::size_t rows = 0;
  for (char c : csv.body) rows += c == '\n';
  EXPECT_EQ(rows, 1u + 5u) << csv.body;
  EXPECT_EQ(alice.get("/api/v1/audit/export?format=xml").status, 400);
  EXPECT_EQ(login(server, "carol").get("/api/v1/audit/export").status, 403);
}

// The CSV's data columns and bom=1 (issue 18): what each event changed, readable in a
// spreadsheet, "Müller" included.
TEST_F(AuditStreamE2E, TheCsvExportShowsWhatChangedAndCanCarryABom) {
  HttpClient alice = login(server, "alice");
  const Json created = create_token(alice, "Müller's CI", 30);
  const std::string id = created["id"].str();
  const Response edited = alice.patch("/api/v1/tokens/" + id, R"({"timeout":{"value":60,"unit":"days"}})",
                                      {{"Content-Type", "application/json"}});
  ASSERT_EQ(edited.status, 200) << describe(edited);
  const std::string expires_30 = created["expires_at"].str(), expires_60 = edited.json()["expires_at"].str();
  ASSERT_NE(expires_30, expires_60);
  ASSERT_EQ(alice.del("/api/v1/tokens/" + id).status, 204);

  const Response csv = alice.get("/api/v1/audit/export?format=csv&bom=1&token_id=" + id);
  ASSERT_EQ(csv.status, 200) << describe(csv);
  ASSERT_EQ(csv.body.rfind("\xEF\xBB\xBFseq,at,type,", 0), 0u) << "the byte order mark, then the header";
  const std::string header = csv.body.substr(3, csv.body.find("\r\n") - 3);
  EXPECT_NE(header.find(",peer,description,timeout_days,expires_at,reason,groups,actor_token_id"), std::string::npos)
      << header;
  std::vector<std::string> rows;
  for (std::size_t at = csv.body.find("\r\n") + 2; at < csv.body.size();) {
    const std::size_t end = csv.body.find("\r\n", at);
    rows.push_back(csv.body.substr(at, end - at));
    at = end + 2;
  }
  ASSERT_EQ(rows.size(), 3u) << csv.body;
  auto tail = [](const std::string& row) {  // the seven data columns (details: access events only)
    std::size_t at = row.size();
    for (int commas = 0; commas < 7; ++commas) at = row.rfind(',', at - 1);
    return row.substr(at + 1);
  };
  EXPECT_EQ(tail(rows[0]), "Müller's CI,30," + expires_30 + ",,,,") << rows[0];
  EXPECT_EQ(tail(rows[1]), ",60," + expires_60 + ",,,,") << rows[1];
  EXPECT_EQ(tail(rows[2]), ",,,,,,") << rows[2];
  // The same without a filter that holds the creation: the expiry still counts from it.
  const Response changes = alice.get("/api/v1/audit/export?format=csv&type=TokenTimeoutChanged&token_id=" + id);
  ASSERT_EQ(changes.status, 200);
  EXPECT_NE(changes.body.find(",60," + expires_60 + ","), std::string::npos) << changes.body;
  EXPECT_EQ(changes.body.rfind("seq,", 0), 0u) << "no byte order mark unless asked";

  for (const char* bad : {"?format=csv&bom=2", "?format=csv&bom=yes", "?format=jsonl&bom=1", "?bom=1"}) {
    const Response res = alice.get(std::string("/api/v1/audit/export") + bad);
    EXPECT_EQ(res.status, 400) << bad << ": " << describe(res);
    EXPECT_NE(res.body.find("bom"), std::string::npos) << bad << ": " << res.body;
  }
  EXPECT_EQ(alice.get("/api/v1/audit/export?format=csv&bom=0").status, 200);
}

TEST_F(AuditStreamE2E, TokensAsOfAMomentShowWhatUserHeldThen) {
  HttpClient alice = login(server, "alice");
  HttpClient carol = login(server, "carol");
  const std::string kept = create_token(carol, "kept", 30)["id"].str();
  const std::string gone = create_token(carol, "deleted later", 30)["id"].str();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string moment = alice.get("/api/v1/audit?limit=1000").json()["events"].items().back()["at"].str();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(carol.del("/api/v1/tokens/" + gone).status, 204);
  create_token(carol, "created later", 30);

  const Response then = alice.get("/api/v1/tokens?owner=carol&as_of=" + moment);
  ASSERT_EQ(then.status, 200) << describe(then);
  std::set<std::string> ids;
  const Json listed = then.json();  // kept alive for the loop
  for (const auto& t : listed["tokens"].items()) ids.insert(t["id"].str());
  EXPECT_EQ(ids, (std::set<std::string>{kept, gone}));
  EXPECT_EQ(alice.get("/api/v1/tokens?owner=carol").json()["tokens"].size(), 2u) << "now: kept and created later";
  EXPECT_EQ(carol.get("/api/v1/tokens?owner=alice&as_of=" + moment).status, 403) << "auditors only";
  EXPECT_EQ(alice.get("/api/v1/tokens?owner=carol&as_of=yesterday").status, 400);
  // An owner that is no UTF-8 would be echoed into the JSON answer: refused, as on the audit routes.
  for (const char* owner : {"%FF", "ali%C3", "%ED%A0%80"}) {
    const Response bad = alice.get(std::string("/api/v1/tokens?owner=") + owner + "&as_of=" + moment);
    EXPECT_EQ(bad.status, 400) << owner << ": " << describe(bad);
    EXPECT_NE(bad.body.find("owner: must be valid UTF-8"), std::string::npos) << bad.body;
  }
}

TEST_F(AuditStreamE2E, VerifyChecksSignedCheckpoints) {
  HttpClient alice = login(server, "alice");
  const Response signed_head = alice.post("/api/v1/audit/checkpoints");
  ASSERT_EQ(signed_head.status, 201) << describe(signed_head);
  const Json checkpoint = signed_head.json();
  const Json verified = alice.get("/api/v1/audit/verify").json();
  EXPECT_TRUE(verified["ok"].boolean());
  EXPECT_TRUE(verified["checkpoints"]["ok"].boolean());
  // The one the server signed at start (over the first admin's creation), this one, and the one
  // the first scrub signs when the head has moved on meanwhile (the server's own access events).
  EXPECT_GE(verified["checkpoints"]["count"].num(), 2);
  EXPECT_EQ(verified["checkpoints"]["public_key"].str(), checkpoint["public_key"].str());
  const Json listed = alice.get("/api/v1/audit/checkpoints").json();
  ASSERT_GE(listed["checkpoints"].size(), 2u);
  EXPECT_EQ(listed["checkpoints"][0]["seq"].integer(), 2);
  std::size_t posted = 0;
  for (const Json& c : listed["checkpoints"].items()) posted += c["signature"].str() == checkpoint["signature"].str();
  EXPECT_EQ(posted, 1u);
  EXPECT_EQ(login(server, "carol").post("/api/v1/audit/checkpoints").status, 403);
}

// The seqs of a JSON Lines export, in order.
std::vector<std::int64_t> export_seqs(const std::string& body) {
  std::vector<std::int64_t> seqs;
  for (std::size_t at = 0, end; (end = body.find('\n', at)) != std::string::npos; at = end + 1) {
    seqs.push_back(Json::parse(body.substr(at, end - at))["seq"].integer());
  }
  return seqs;
}

// The seq of the newest signed checkpoint at or before `seq` (GET /api/v1/audit/checkpoints), 0 for none.
std::int64_t newest_checkpoint_seq(HttpClient& auditor, std::int64_t seq) {
  std::int64_t newest = 0;
  const Json listed = auditor.get("/api/v1/audit/checkpoints").json();
  for (const Json& c : listed["checkpoints"].items()) {
    if (c["seq"].integer() <= seq) newest = std::max(newest, c["seq"].integer());
  }
  return newest;
}

// A manifest fetched separately with the same filters and head_seq describes the export exactly.
TEST_F(AuditStreamE2E, ManifestDescribesTheExportBoundAtTheSameHead) {
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "manifest", 5)["id"].str();
  reveal(alice, id);
  reveal(alice, id);
  const Response whole = alice.get("/api/v1/audit/export");
  ASSERT_EQ(whole.status, 200) << describe(whole);
  // The head when the export began (its own AuditExported lands after it): that record's hash.
  const std::string head_header = whole.header("tokenledger-export-head");
  std::smatch bound;
  ASSERT_TRUE(std::regex_match(head_header, bound, std::regex("seq=(\\d+), hash=([0-9a-f]{64})"))) << head_header;
  const std::int64_t head = std::stoll(bound[1].str());
  const Json at_head = alice.get("/api/v1/audit?limit=1&after_seq=" + std::to_string(head - 1)).json();
  EXPECT_EQ(at_head["events"][0]["hash"].str(), bound[2].str());
  EXPECT_EQ(export_seqs(whole.body).back(), head);

  // More happens after the export: bound at the export's head, the manifest does not see it.
  create_token(alice, "after the export", 5);
  const std::string query = "?type=TokenRevealed&token_id=" + id + "&head_seq=" + std::to_string(head);
  const Response exported = alice.get("/api/v1/audit/export" + query);
  ASSERT_EQ(exported.status, 200) << describe(exported);
  EXPECT_EQ(exported.header("tokenledger-export-head"), head_header);
  const std::vector<std::int64_t> seqs = export_seqs(exported.body);
  ASSERT_EQ(seqs.size(), 2u) << exported.body;

  const Response res = alice.get("/api/v1/audit/export/manifest" + query);
  ASSERT_EQ(res.status, 200) << describe(res);
  const Json m = res.json();
  EXPECT_EQ(m["manifest"].str(), "tokenledger-audit-export");
  EXPECT_EQ(m["version"].integer(), 1);
  EXPECT_NO_THROW(unix_ms(m["generated_at"].str()));
  EXPECT_EQ(m["filters"].keys(), (std::vector<std::string>{"token_id", "type", "head_seq"}));
  EXPECT_EQ(m["filters"]["token_id"].str(), id);
  EXPECT_EQ(m["filters"]["type"].str(), "TokenRevealed");
  EXPECT_EQ(m["filters"]["head_seq"].str(), std::to_string(head));
  EXPECT_EQ("seq=" + std::to_string(m["head"]["seq"].integer()) + ", hash=" + m["head"]["hash"].str(), head_header);
  EXPECT_EQ(m["count"].integer(), 2);
  EXPECT_EQ(m["first_seq"].integer(), seqs.front());
  EXPECT_EQ(m["last_seq"].integer(), seqs.back());
  // The newest signed at or before the head: at the first start, over the key check (seq 1) and
  // the first admin (seq 2), or by the first scrub.
  EXPECT_EQ(m["checkpoint"]["seq"].integer(), newest_checkpoint_seq(alice, head)) << res.body;
  EXPECT_GE(m["checkpoint"]["seq"].integer(), 2);

  // Unbounded, the whole trail; nothing matched, null seqs; past the head, refused by name.
  const Json all = alice.get("/api/v1/audit/export/manifest").json();
  EXPECT_EQ(all["filters"].size(), 0u);
  EXPECT_EQ(all["count"].integer(), all["head"]["seq"].integer());
  EXPECT_EQ(all["first_seq"].integer(), 1);
  const Json none = alice.get("/api/v1/audit/export/manifest?token_id=tok_none").json();
  EXPECT_EQ(none["count"].integer(), 0);
  EXPECT_TRUE(none["first_seq"].is_null());
  EXPECT_TRUE(none["last_seq"].is_null());
  for (const char* route : {"/api/v1/audit/export", "/api/v1/audit/export/manifest"}) {
    const Response past =
        alice.get(std::string(route) + "?head_seq=" + std::to_string(all["head"]["seq"].integer() + 1'000'000));
    EXPECT_EQ(past.status, 400) << route << ": " << describe(past);
    EXPECT_NE(past.body.find("head_seq"), std::string::npos) << past.body;
  }
  EXPECT_EQ(login(server, "carol").get("/api/v1/audit/export/manifest").status, 403);
}

TEST_F(AuditStreamE2E, ManifestCarriesTheNewestCheckpointAtOrBeforeItsHead) {
  HttpClient alice = login(server, "alice");
  create_token(alice, "signed", 5);
  const Response signed_head = alice.post("/api/v1/audit/checkpoints");
  ASSERT_EQ(signed_head.status, 201) << describe(signed_head);
  const Json checkpoint = signed_head.json();
  const Json m = alice.get("/api/v1/audit/export/manifest").json();
  ASSERT_TRUE(m["checkpoint"].is_object()) << m["checkpoint"].is_null();
  for (const char* key : {"seq", "hash", "at", "prev", "public_key", "signature"}) {
    EXPECT_TRUE(m["checkpoint"].has(key)) << key;
  }
  // Bounded at the posted one's seq, the manifest carries it (the head has moved on since: the
  // access events of the reads).
  const std::int64_t at = checkpoint["seq"].integer();
  const Json bounded = alice.get("/api/v1/audit/export/manifest?head_seq=" + std::to_string(at)).json();
  EXPECT_EQ(bounded["checkpoint"]["seq"].integer(), at);
  EXPECT_EQ(bounded["checkpoint"]["signature"].str(), checkpoint["signature"].str());
  EXPECT_EQ(bounded["checkpoint"]["hash"].str(), bounded["head"]["hash"].str());
  EXPECT_EQ(m["checkpoint"]["seq"].integer(), newest_checkpoint_seq(alice, m["head"]["seq"].integer()));
  // Bounded before it, the export cannot be checked against it: the one before.
  const Json earlier = alice.get("/api/v1/audit/export/manifest?head_seq=" + std::to_string(at - 1)).json();
  EXPECT_EQ(earlier["checkpoint"]["seq"].integer(), newest_checkpoint_seq(alice, at - 1));
  EXPECT_LT(earlier["checkpoint"]["seq"].integer(), at);
  EXPECT_TRUE(alice.get("/api/v1/audit/export/manifest?head_seq=1").json()["checkpoint"].is_null());
}

TEST_F(AuditStreamE2E, LastEventIdPastTwoToTheSixtyThreeIsRefused) {
  HttpClient alice = login(server, "alice");
  const Response res = alice.get("/api/v1/audit/stream", {{"Last-Event-ID", "18446744073709551615"}});
  EXPECT_EQ(res.status, 400) << describe(res);
  EXPECT_NE(res.body.find("Last-Event-ID"), std::string::npos) << res.body;
}

}  // namespace
}  // namespace e2e
