// End to end: proofs over the log's RFC 9162 Merkle tree (issue 18, item 4). A reveal answers a
// receipt and a delete its header; GET /api/v1/audit/receipts/{seq} gives the event, its inclusion
// proof and the signed tree head (C2SP checkpoint) covering it, which `tokenledger-admin proof
// verify` checks offline, refusing anything altered; inclusion and consistency proofs agree with
// each other and with the signed tree heads, before and after a restart; owners prove only their
// own tokens' events; bad parameters are 400s naming the parameter.
#include <sodium.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/hex.hpp"
#include "e2e_backup_support.hpp"
#include "eventstore/merkle.hpp"
#include "eventstore/tree_heads.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

using tl::merkle::Hash;

Hash hash_of(const std::string& hex_text) {
  const auto bytes = tl::from_hex(hex_text);
  if (!bytes || bytes->size() != 32) throw std::runtime_error("not a SHA-256 hash in hex: " + hex_text);
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::vector<Hash> hashes(const Json& array) {
  std::vector<Hash> out;
  for (const Json& item : array.items()) out.push_back(hash_of(item.str()));
  return out;
}

class ProofsE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));  // api-tokens and auditors
    carol.emplace(login(server, "carol"));  // api-tokens
  }
  std::string save(const std::string& name, const std::string& text) {
    const std::string path = server.root_dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string public_key() { return alice->get("/api/v1/audit/checkpoints").json()["public_key"].str(); }
  RunResult verify_receipt(const std::string& receipt, const std::string& key) {
    return run_admin({"proof", "verify", "--receipt", save("receipt.json", receipt), "--public-key", key});
  }
  std::int64_t head() { return alice->get("/api/v1/audit/export/manifest").json()["head"]["seq"].integer(); }

  std::optional<HttpClient> alice;
  std::optional<HttpClient> carol;
};

TEST_F(ProofsE2E, ARevealsReceiptIsCheckedOfflineAndNothingAlteredPasses) {
  for (int i = 0; i < 5; ++i) create_token(*alice, "filler " + std::to_string(i), 5);
  const std::string id = create_token(*carol, "proved", 10)["id"].str();
  const Response revealed = carol->post("/api/v1/tokens/" + id + "/reveal", "");
  ASSERT_EQ(revealed.status, 200) << describe(revealed);
  const std::string code = revealed.json()["token"].str();
  const Json ref = revealed.json()["receipt"];
  const std::int64_t seq = ref["seq"].integer();

  // An owner cannot have a tree head signed on demand (one per reveal would flood the list and
  // the witnesses): until the timer's next one covers her event, 503 with Retry-After.
  const Response early = carol->get("/api/v1/audit/receipts/" + std::to_string(seq));
  EXPECT_EQ(early.status, 503) << describe(early);
  EXPECT_FALSE(early.header("Retry-After").empty());
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  const Response owners = carol->get("/api/v1/audit/receipts/" + std::to_string(seq));
  ASSERT_EQ(owners.status, 200) << describe(owners);
  const Json receipt = owners.json();
  EXPECT_EQ(receipt["seq"].integer(), seq);
  EXPECT_EQ(receipt["event"]["type"].str(), "TokenRevealed");
  EXPECT_EQ(receipt["event"]["token_id"].str(), id);
  EXPECT_EQ(receipt["leaf_hash"].str(), ref["leaf_hash"].str());
  EXPECT_EQ(receipt["inclusion_proof"]["leaf_index"].integer(), seq - 1);
  EXPECT_GE(receipt["inclusion_proof"]["tree_size"].integer(), seq);
  EXPECT_TRUE(receipt.has("record")) << "the stored line binds the event shown to its hash";
  EXPECT_TRUE(receipt["checkpoint"].str().starts_with("tokenledger/")) << receipt["checkpoint"].str();
  EXPECT_EQ(owners.body.find(code), std::string::npos);
  const Response auditors = alice->get("/api/v1/audit/receipts/" + std::to_string(seq));
  ASSERT_EQ(auditors.status, 200) << describe(auditors);
  ASSERT_TRUE(auditors.json().has("record"));
  EXPECT_EQ(auditors.body.find(code), std::string::npos);
  // A creation's stored line holds the code's ciphertext: its owner's receipt goes without it.
  const std::int64_t created_seq = carol->get("/api/v1/tokens/" + id + "/history").json()["events"][0]["seq"].integer();
  const Response creation = carol->get("/api/v1/audit/receipts/" + std::to_string(created_seq));
  ASSERT_EQ(creation.status, 200) << describe(creation);
  EXPECT_EQ(creation.json()["event"]["type"].str(), "TokenCreated");
  EXPECT_FALSE(creation.json().has("record"));
  EXPECT_FALSE(creation.json()["event"]["data"].has("code_sealed"));

  const std::string key = public_key();
  const RunResult ok = verify_receipt(owners.body, key);
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
  EXPECT_NE(ok.out.find("event " + std::to_string(seq) + " (TokenRevealed)"), std::string::npos) << ok.all();
  const RunResult ok_record = verify_receipt(auditors.body, key);
  EXPECT_EQ(ok_record.exit_code, 0) << ok_record.all();
  const RunResult ok_unbound = verify_receipt(creation.body, key);
  EXPECT_EQ(ok_unbound.exit_code, 0) << ok_unbound.all();
  EXPECT_NE(ok_unbound.out.find("only its record_hash is proven"), std::string::npos) << ok_unbound.all();
  EXPECT_NE(ok_record.out.find("the event shown is its stored record"), std::string::npos) << ok_record.all();

  // Each alteration is refused (exit 1), naming what does not hold.
  auto altered = [](std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("not in the receipt: " + from);
    return text.replace(at, from.size(), to);
  };
  const std::string first_path = receipt["inclusion_proof"]["inclusion_path"][0].str();
  std::string flipped = first_path;
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  const std::string size_line = "\\n" + std::to_string(receipt["inclusion_proof"]["tree_size"].integer()) + "\\n";
  std::string other_key = key;
  other_key[5] = other_key[5] == 'a' ? 'b' : 'a';
  const std::string record_hash = receipt["record_hash"].str();
  std::string other_hash = record_hash;
  other_hash[0] = other_hash[0] == 'f' ? 'e' : 'f';
  struct Case {
    std::string what, receipt, key, named;
  };
  const std::vector<Case> cases = {
      {"a path hash", altered(owners.body, first_path, flipped), key, "inclusion_path"},
      {"the record hash", altered(owners.body, record_hash, other_hash), key, "leaf_hash"},
      {"another key", owners.body, other_key, "signature"},
      {"the signed size", altered(owners.body, size_line, "\\n1\\n"), key, "signature"},
      {"the event shown", altered(owners.body, R"("type":"TokenRevealed")", R"("type":"TokenDeleted")"), key,
       "event: type"},
      {"the stored record", altered(auditors.body, R"(\"type\":\"TokenRevealed\")", R"(\"type\":\"TokenDeleted\")"),
       key, "record:"},
  };
  // Found by an attacker's try: a receipt without its record claiming another event, members added
  // to the event shown, keys given twice (readers disagree on which counts), a record not a string.
  const std::string without_record = [&] {
    const std::string body = owners.body;
    const auto at = body.find(R"(,"record":")");
    const auto end = body.find(R"(","inclusion_proof")", at);
    return body.substr(0, at) + body.substr(end + 1);
  }();
  const std::vector<Case> more = {
      {"no record, another type", altered(without_record, R"("type":"TokenRevealed")", R"("type":"TokenDeleted")"), key,
       "record: missing"},
      {"no record at all", without_record, key, "record: missing"},
      {"a member added to the event", altered(owners.body, R"("event":{)", R"("event":{"extra":"x",)"), key,
       "event: extra"},
      {"a data member added", altered(owners.body, R"("data":{})", R"("data":{"reason":"compromised"})"), key,
       "event: data.reason"},
      {"a key given twice", altered(owners.body, R"("seq":)", R"("seq":99,"seq":)"), key, "twice"},
      {"a record that is no string", altered(owners.body, R"("record":")", R"("record":{},"x":")"), key, "record"},
  };
  for (const Case& c : more) {
    const RunResult refused = verify_receipt(c.receipt, c.key);
    EXPECT_EQ(refused.exit_code, 1) << c.what << ": " << refused.all();
    EXPECT_NE(refused.all().find(c.named), std::string::npos) << c.what << ": " << refused.all();
  }
  // A creation's receipt for its owner proves the record hash only, and says the event is unproven.
  const RunResult unbound_json =
      run_admin({"proof", "verify", "--receipt", save("creation.json", creation.body), "--public-key", key, "--json"});
  EXPECT_EQ(unbound_json.exit_code, 0) << unbound_json.all();
  EXPECT_NE(unbound_json.out.find(R"("event_proven":false)"), std::string::npos) << unbound_json.all();
  EXPECT_EQ(unbound_json.out.find(R"("type")"), std::string::npos) << unbound_json.all();
  for (const Case& c : cases) {
    const RunResult refused = verify_receipt(c.receipt, c.key);
    EXPECT_EQ(refused.exit_code, 1) << c.what << ": " << refused.all();
    EXPECT_NE(refused.all().find(c.named), std::string::npos) << c.what << ": " << refused.all();
  }
}

TEST_F(ProofsE2E, ADeleteAnswersItsReceiptInAHeader) {
  const std::string id = create_token(*carol, "to delete", 10)["id"].str();
  const Response deleted = carol->del("/api/v1/tokens/" + id);
  ASSERT_EQ(deleted.status, 204) << describe(deleted);
  std::smatch m;
  const std::string header = deleted.header("Tokenledger-Receipt");
  ASSERT_TRUE(std::regex_match(header, m, std::regex("seq=([0-9]+), leaf_hash=([0-9a-f]{64})"))) << header;
  // An auditor's request signs a tree head when none covers the event yet; then its owner's answers.
  ASSERT_EQ(alice->get("/api/v1/audit/receipts/" + m[1].str()).status, 200);
  const Response receipt = carol->get("/api/v1/audit/receipts/" + m[1].str());
  ASSERT_EQ(receipt.status, 200) << describe(receipt);
  EXPECT_EQ(receipt.json()["event"]["type"].str(), "TokenDeleted");
  EXPECT_EQ(receipt.json()["leaf_hash"].str(), m[2].str());
  const RunResult ok = verify_receipt(receipt.body, public_key());
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
}

TEST_F(ProofsE2E, InclusionAndConsistencyProofsAgreeWithTheSignedTreeHeads) {
  const std::string id = create_token(*carol, "early", 10)["id"].str();
  const std::int64_t early = head();
  for (int i = 0; i < 70; ++i) reveal(*carol, id);  // past a chunk of 64 leaves
  const std::int64_t later = head();
  auto inclusion = [&](std::int64_t seq, std::int64_t size) {
    const Response res =
        alice->get("/api/v1/audit/proof/inclusion?seq=" + std::to_string(seq) + "&tree_size=" + std::to_string(size));
    if (res.status != 200) throw std::runtime_error(describe(res));
    const Json proof = res.json();
    EXPECT_EQ(proof["leaf_index"].integer(), seq - 1);
    EXPECT_EQ(proof["tree_size"].integer(), size);
    const Hash root = hash_of(proof["root_hash"].str());
    EXPECT_EQ(tl::merkle::root_from_inclusion(static_cast<std::uint64_t>(seq - 1), static_cast<std::uint64_t>(size),
                                              hash_of(proof["leaf_hash"].str()), hashes(proof["inclusion_path"]))
                  .value(),
              root)
        << seq << " in " << size;
    return root;
  };
  const Hash early_root = inclusion(early, early);
  const Hash later_root = inclusion(early, later);
  EXPECT_EQ(inclusion(1, later), later_root);
  EXPECT_EQ(inclusion(later, later), later_root);
  const Response c =
      carol->get("/api/v1/audit/proof/consistency?from=" + std::to_string(early) + "&to=" + std::to_string(later));
  ASSERT_EQ(c.status, 200) << describe(c);
  EXPECT_EQ(c.json()["first"].integer(), early);
  EXPECT_EQ(c.json()["second"].integer(), later);
  EXPECT_EQ(hash_of(c.json()["first_root_hash"].str()), early_root);
  EXPECT_TRUE(tl::merkle::verify_consistency(static_cast<std::uint64_t>(early), static_cast<std::uint64_t>(later),
                                             early_root, later_root, hashes(c.json()["consistency_path"]))
                  .ok());

  // A signed tree head (with each signed checkpoint) has the root the proofs lead to.
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  const Json heads = alice->get("/api/v1/audit/checkpoints").json()["tree_heads"];
  ASSERT_GE(heads.size(), 1u);
  const Json& newest = heads[heads.size() - 1];
  EXPECT_EQ(hash_of(newest["root_hash"].str()), inclusion(1, newest["tree_size"].integer()));
  EXPECT_TRUE(newest["checkpoint"].str().find("\n" + std::to_string(newest["tree_size"].integer()) + "\n") !=
              std::string::npos);

  // After a restart (the tree loaded from its saved chunks), the same roots.
  server.restart();
  sign_in_admin();
  alice.emplace(login(server, "alice"));
  EXPECT_EQ(inclusion(early, early), early_root);
  EXPECT_EQ(inclusion(3, later), later_root);
}

TEST_F(ProofsE2E, OwnersProveOnlyTheirOwnTokensEvents) {
  const std::string alices = create_token(*alice, "alice's", 10)["id"].str();
  const std::int64_t seq = alice->post("/api/v1/tokens/" + alices + "/reveal", "").json()["receipt"]["seq"].integer();
  const std::string s = std::to_string(seq);
  HttpClient bob = login(server, "bob");
  for (HttpClient* other : {&*carol, &bob}) {
    EXPECT_EQ(other->get("/api/v1/audit/receipts/" + s).status, 404);
    EXPECT_EQ(other->get("/api/v1/audit/proof/inclusion?seq=" + s).status, 404);
  }
  // A user event (the admin's) is nobody's token event: auditors only.
  EXPECT_EQ(carol->get("/api/v1/audit/proof/inclusion?seq=1").status, 404);
  EXPECT_EQ(alice->get("/api/v1/audit/proof/inclusion?seq=1").status, 200);
  EXPECT_EQ(alice->get("/api/v1/audit/receipts/" + s).status, 200);
  // The refusals and the reads are in the trail (access events), as for tokens and the audit.
  bool refused = false;
  for (const Json& e : await_events(*alice, "type=AccessDenied&actor=carol", 1)) {
    refused = refused || e["data"]["route"].str() == "/api/v1/audit/receipts/{}";
  }
  EXPECT_TRUE(refused);
  const std::vector<Json> reads = await_events(*alice, "type=AuditRead&actor=alice", 2);
  bool read = false;
  for (const Json& e : reads) {
    read =
        read || (e["data"]["route"].str() == "/api/v1/audit/receipts/{}" && e["data"]["filters"].str() == "seq=" + s);
  }
  EXPECT_TRUE(read);
  // A later user of a deleted user's name gets nothing of the earlier one's tokens' events.
  const std::string carols = create_token(*carol, "the first carol's", 10)["id"].str();
  const std::int64_t carol_seq =
      carol->post("/api/v1/tokens/" + carols + "/reveal", "").json()["receipt"]["seq"].integer();
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  ASSERT_EQ(carol->get("/api/v1/audit/receipts/" + std::to_string(carol_seq)).status, 200);
  ASSERT_EQ(admin->del("/api/v1/users/carol").status, 204);
  create_user(*admin, "carol", {"api-tokens"});
  HttpClient second_carol = login(server, "carol");
  EXPECT_EQ(second_carol.get("/api/v1/audit/receipts/" + std::to_string(carol_seq)).status, 404);
  EXPECT_EQ(second_carol.get("/api/v1/audit/proof/inclusion?seq=" + std::to_string(carol_seq)).status, 404);
  // Tree sizes and hashes say nothing of any event: any signed-in user may check consistency.
  EXPECT_EQ(bob.get("/api/v1/audit/proof/consistency?from=1&to=2").status, 200);
  EXPECT_EQ(server.client().get("/api/v1/audit/proof/consistency?from=1&to=2").status, 401);
}

TEST_F(ProofsE2E, BadParametersAre400sNamingTheParameter) {
  const std::string h = std::to_string(head());
  const std::string beyond = std::to_string(head() + 1000);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/v1/audit/proof/inclusion", "seq"},
      {"/api/v1/audit/proof/inclusion?seq=0", "seq"},
      {"/api/v1/audit/proof/inclusion?seq=x", "seq"},
      {"/api/v1/audit/proof/inclusion?seq=" + beyond, "seq"},
      {"/api/v1/audit/proof/inclusion?seq=2&tree_size=" + beyond, "tree_size"},
      {"/api/v1/audit/proof/inclusion?seq=3&tree_size=2", "tree_size"},
      {"/api/v1/audit/proof/inclusion?seq=1&size=2", "size"},
      {"/api/v1/audit/proof/consistency", "from"},
      {"/api/v1/audit/proof/consistency?from=0&to=" + h, "from"},
      {"/api/v1/audit/proof/consistency?from=3&to=2", "from"},
      {"/api/v1/audit/proof/consistency?from=1&to=" + beyond, "to"},
      {"/api/v1/audit/proof/consistency?first=1&second=2", "first"},
  };
  for (const auto& [path, name] : cases) {
    const Response res = alice->get(path);
    EXPECT_EQ(res.status, 400) << path << ": " << describe(res);
    EXPECT_NE(res.json()["error"]["message"].str().find(name), std::string::npos) << path << ": " << res.body;
  }
  EXPECT_EQ(alice->get("/api/v1/audit/receipts/0").status, 404);
  EXPECT_EQ(alice->get("/api/v1/audit/receipts/" + beyond).status, 404);
  EXPECT_EQ(alice->get("/api/v1/audit/receipts/abc").status, 404);
}

TEST_F(ProofsE2E, AWitnessCosignsWhatExtendsWhatItSawAndRefusesWhatDoesNot) {
  const std::string state = server.root_dir() + "/witness.state";
  const std::string key = server.root_dir() + "/witness.key";
  auto witness = [&] {
    return run_admin({"witness", "--state", state, "--url", "http://127.0.0.1:" + std::to_string(server.port()),
                      "--key", key, "--user", "alice", "--name", "witness.example/w1"},
                     password_of("alice") + "\n");
  };
  auto newest_checkpoint = [&] {
    const Json heads = alice->get("/api/v1/audit/checkpoints").json()["tree_heads"];
    return heads[heads.size() - 1]["checkpoint"].str();
  };
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  const RunResult first = witness();
  ASSERT_EQ(first.exit_code, 0) << first.all();
  EXPECT_NE(first.out.find("the first seen"), std::string::npos) << first.all();
  EXPECT_NE(newest_checkpoint().find("\n\xE2\x80\x94 witness.example/w1 "), std::string::npos) << newest_checkpoint();

  create_token(*carol, "more", 10);
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  const RunResult second = witness();
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_NE(second.out.find("consistent with the"), std::string::npos) << second.all();
  EXPECT_NE(newest_checkpoint().find("witness.example/w1"), std::string::npos);

  // A state whose root is not the log's (a split view, or a rewritten log): refused, nothing posted.
  std::string text;
  {
    std::ifstream in(state);
    std::getline(in, text);
  }
  const auto root_at = text.find("\"root_hash\":\"") + 13;
  text[root_at] = text[root_at] == '0' ? '1' : '0';
  std::ofstream(state, std::ios::trunc) << text << "\n";
  create_token(*carol, "even more", 10);
  ASSERT_EQ(alice->post("/api/v1/audit/checkpoints", "").status, 201);
  const RunResult refused = witness();
  EXPECT_EQ(refused.exit_code, 1) << refused.all();
  EXPECT_NE(refused.all().find("refusing to cosign"), std::string::npos) << refused.all();
  EXPECT_EQ(newest_checkpoint().find("witness.example/w1"), std::string::npos) << newest_checkpoint();

  // The server takes only cosignatures that verify over a tree head it signed.
  const Json heads = alice->get("/api/v1/audit/checkpoints").json()["tree_heads"];
  const std::int64_t size = heads[heads.size() - 1]["tree_size"].integer();
  const std::string some_key(64, 'a');
  const std::string note = heads[heads.size() - 1]["checkpoint"].str();
  const std::string origin = note.substr(0, note.find('\n'));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"tree_size":)" + std::to_string(size) + R"(,"cosignature":"\u2014 )" + origin +
           R"( AAAAAAAA","public_key":")" + some_key + R"("})",
       "the log's own"},
      {R"({"tree_size":)" + std::to_string(size) + R"(,"cosignature":"\u2014 w\u0007x AAAAAAAA","public_key":")" +
           some_key + R"("})",
       "printable ASCII"},
      {R"({"tree_size":)" + std::to_string(size + 1000) + R"(,"cosignature":"x","public_key":")" + some_key + R"("})",
       "cosignature"},
      {R"({"tree_size":)" + std::to_string(size) + R"(,"cosignature":"\u2014 w AAAA","public_key":")" + some_key +
           R"("})",
       "cosignature"},
      {R"({"tree_size":)" + std::to_string(size) + R"(,"cosignature":"x","public_key":"zz"})", "public_key"},
      {R"({"cosignature":"x","public_key":")" + some_key + R"("})", "tree_size"},
      {R"({"tree_size":1,"cosignature":"x","public_key":")" + some_key + R"(","extra":1})", "extra"},
  };
  for (const auto& [body, named] : bad) {
    const Response res = alice->post("/api/v1/audit/cosignatures", body);
    EXPECT_EQ(res.status, 400) << body << ": " << describe(res);
    EXPECT_NE(res.body.find(named), std::string::npos) << body << ": " << res.body;
  }
  // A valid line replayed onto another size does not verify there.
  const std::string first_line = [&] {
    const Json list = alice->get("/api/v1/audit/checkpoints").json();
    for (const Json& h : list["tree_heads"].items()) {
      const std::string stored = h["checkpoint"].str();
      const auto at = stored.find("\xE2\x80\x94 witness.example/w1 ");
      if (at != std::string::npos) return stored.substr(at, stored.find('\n', at) - at);
    }
    return std::string("none");
  }();
  ASSERT_NE(first_line, "none");
  const Response replayed =
      alice->post("/api/v1/audit/cosignatures", R"({"tree_size":)" + std::to_string(size) + R"(,"cosignature":)" +
                                                    json_str(first_line) + R"(,"public_key":")" + some_key + R"("})");
  EXPECT_EQ(replayed.status, 400) << describe(replayed);
  EXPECT_EQ(carol->post("/api/v1/audit/cosignatures", "{}").status, 403);

  // Each auditor holds one cosignature per tree head (a new one replaces hers), so no auditor can
  // fill a tree head with lines and crowd out the others (from an attacker's try: 32 fresh keys
  // took every slot and the witness was refused). Names are printable ASCII; timestamps not ahead.
  const tl::TreeHead head = tl::parse_tree_head(newest_checkpoint()).value();
  const auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  auto cosign = [&](HttpClient& who, const std::string& name, std::uint64_t at) {
    tl::Ed25519PublicKey pk;
    std::array<unsigned char, 64> sk;
    crypto_sign_keypair(pk.data(), sk.data());
    std::string line = tl::cosignature_line(head, name, pk, sk, at);
    line.pop_back();
    return who.post("/api/v1/audit/cosignatures", R"({"tree_size":)" + std::to_string(head.size) +
                                                      R"(,"cosignature":)" + json_str(line) + R"(,"public_key":")" +
                                                      tl::to_hex(pk.data(), pk.size()) + "\"}");
  };
  for (const char* name : {"w.example/a1", "w.example/a2", "w.example/a3"}) {
    EXPECT_EQ(cosign(*alice, name, now).status, 201) << name;
  }
  create_user(*admin, "aud2", {"auditors"});
  HttpClient aud2 = login(server, "aud2");
  EXPECT_EQ(cosign(aud2, "w.example/b1", now).status, 201);
  const std::string cosigned = newest_checkpoint();
  EXPECT_EQ(cosigned.find("w.example/a1"), std::string::npos) << cosigned;
  EXPECT_EQ(cosigned.find("w.example/a2"), std::string::npos) << cosigned;
  EXPECT_NE(cosigned.find("w.example/a3"), std::string::npos) << cosigned;
  EXPECT_NE(cosigned.find("w.example/b1"), std::string::npos) << cosigned;
  const Response ahead = cosign(*alice, "w.example/a4", now + 3600);
  EXPECT_EQ(ahead.status, 400) << describe(ahead);
  EXPECT_NE(ahead.body.find("future"), std::string::npos) << ahead.body;
  for (const std::string& name :
       std::vector<std::string>{"w.example/\xC2\xA0x", "w.example/\xE2\x80\xA8", std::string(300, 'w')}) {
    const Response odd = cosign(*alice, name, now);
    EXPECT_EQ(odd.status, 400) << describe(odd);
  }
  EXPECT_NE(newest_checkpoint().find("w.example/a3"), std::string::npos) << "refusals change nothing";

  // Another auditor posting a copy of alice's line (a reviewer's finding: the copy took the slot,
  // and her next post dropped alice's line) is refused; alice may post hers again.
  tl::Ed25519PublicKey pk;
  std::array<unsigned char, 64> sk;
  crypto_sign_keypair(pk.data(), sk.data());
  std::string line = tl::cosignature_line(head, "w.example/a3", pk, sk, now);
  line.pop_back();
  const std::string copy_body = R"({"tree_size":)" + std::to_string(head.size) + R"(,"cosignature":)" + json_str(line) +
                                R"(,"public_key":")" + tl::to_hex(pk.data(), pk.size()) + "\"}";
  EXPECT_EQ(alice->post("/api/v1/audit/cosignatures", copy_body).status, 201);
  const Response copied = aud2.post("/api/v1/audit/cosignatures", copy_body);
  EXPECT_EQ(copied.status, 400) << describe(copied);
  EXPECT_NE(copied.body.find("another auditor"), std::string::npos) << copied.body;
  EXPECT_EQ(alice->post("/api/v1/audit/cosignatures", copy_body).status, 201);
  EXPECT_NE(newest_checkpoint().find("w.example/b1"), std::string::npos);
}

}  // namespace
}  // namespace e2e
