// Tampering (issue 11): a data directory written by the real server is edited with RocksDB's own
// `ldb` (Debian rocksdb-tools), as someone holding the disk would, and each edit must be caught,
// naming the seq: by `tokenledger-admin verify --data`, by the server's start where the cheap
// start-up checks can see it, and otherwise by the background scrub (the server then refuses
// writes and /readyz answers 503 naming the seq).
#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "ldb_tool.hpp"
#include "test_server.hpp"

namespace fs = std::filesystem;

namespace {

using e2e::HttpClient;
using e2e::Json;
using namespace faults;

Outcome verify(const std::string& data, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{TOKENLEDGER_ADMIN_BIN, "verify", "--data", data, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run(args);
}

// The JSON report of `verify --json`.
Json report_of(const Outcome& r) { return Json::parse(r.out.substr(r.out.find('{'))); }

// A signed checkpoint line, as the server writes them, signed with the seed in `key_file`.
std::string signed_checkpoint(const std::string& key_file, std::uint64_t seq, const std::string& hash,
                              const std::string& prev) {
  std::ifstream in(key_file);
  std::string seed_hex;
  in >> seed_hex;
  const auto seed = tl::from_hex(seed_hex);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed->data());
  tl::JsonWriter w;
  w.begin_object().key("seq").value(seq).key("hash").value(hash).key("at").value("2026-11-30T00:00:00.000Z");
  w.key("prev").value(prev).key("public_key").value(tl::to_hex(pk, sizeof pk));
  std::string body = std::move(w).str();
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(body.data()), body.size(), sk);
  return body + R"(,"signature":")" + tl::to_hex(sig, sizeof sig) + "\"}";
}

class FaultTamper : public ::testing::Test {
 protected:
  // A log of some 40 events with two signed checkpoints besides the ones signed at start and at
  // shutdown, all handed to a witness file outside the data directory; then the server stops.
  void SetUp() override {
    witness_ = server_.root_dir() + "/witness.jsonl";
    server_.start({.extra_args = base_args()});
    HttpClient admin = e2e::login(server_, "admin");
    e2e::create_user(admin, "alice", {"api-tokens", "auditors"});
    HttpClient alice = e2e::login(server_, "alice");
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(e2e::create_token(alice, "token " + std::to_string(i))["id"].str());
    for (int i = 0; i < 12; ++i) e2e::reveal(alice, ids[static_cast<std::size_t>(i) % ids.size()]);
    ASSERT_EQ(alice.post("/api/v1/audit/checkpoints").status, 201);
    for (int i = 0; i < 12; ++i) e2e::reveal(alice, ids[static_cast<std::size_t>(i) % ids.size()]);
    ASSERT_EQ(server_.stop(), 0);
    data_ = server_.data_dir();
    const Outcome clean = verify(data_, {"--witness", witness_});
    ASSERT_EQ(clean.exit_code, 0) << clean.out;
    // The head as the stop left it (its ServerStopped and the checkpoint over it included).
    head_ = static_cast<std::uint64_t>(report_of(clean)["head"]["seq"].num());
    checkpoints_ = ldb_keys(data_, "meta");
  }

  std::vector<std::string> signed_checkpoint_keys() {
    std::vector<std::string> keys;
    for (const auto& key : ldb_keys(data_, "meta")) {
      const auto bytes = tl::from_hex(key.substr(2));
      if (bytes && std::string(bytes->begin(), bytes->end()).starts_with("checkpoint/")) keys.push_back(key);
    }
    return keys;
  }

  std::vector<std::string> base_args() const { return {"--witness-file", witness_, "--scrub-hours", "0"}; }

  // Starting must fail; returns what the server said.
  std::string failed_start(std::vector<std::string> extra = {}) {
    auto args = base_args();
    args.insert(args.end(), extra.begin(), extra.end());
    try {
      server_.start({.extra_args = args});
    } catch (const std::exception& e) {
      return e.what();
    }
    server_.stop();
    return "(the server started)";
  }

  // Starts (the cheap start-up checks pass; the full check before serving is off) with the scrub on;
  // waits for the scrub to find the damage. Nothing is signed over it, at start or after.
  Json scrub_finds_damage() {
    const auto checkpoints_before = signed_checkpoint_keys();
    const auto metrics = e2e::metrics_secret_args(server_);
    server_.start({.extra_args = {"--witness-file", witness_, "--scrub-hours", "1", "--start-full-check-limit", "0",
                                  metrics[0], metrics[1]}});
    HttpClient client = server_.client();
    Json ready;
    for (int i = 0; i < 200; ++i) {
      const auto res = client.get("/readyz");
      ready = Json::parse(res.body);
      if (res.status == 503 && ready.has("damage")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(ready.has("damage")) << server_.log();
    // Writes are refused from now on; reads go on.
    HttpClient admin = e2e::login(server_, "admin");
    const auto write = admin.post("/api/v1/users", R"({"username":"zed","password":"a long password","groups":[]})",
                                  {{"Content-Type", "application/json"}});
    EXPECT_EQ(write.status, 503) << e2e::describe(write);
    EXPECT_EQ(admin.get("/api/v1/users").status, 200);
    // And no checkpoint is signed over the damaged log.
    const auto signing = e2e::login(server_, "alice").post("/api/v1/audit/checkpoints");
    EXPECT_EQ(signing.status, 503) << e2e::describe(signing);
    const auto metrics_text = client.get("/metrics", e2e::metrics_auth()).body;
    EXPECT_NE(metrics_text.find("tokenledger_integrity_damaged 1"), std::string::npos) << metrics_text;
    EXPECT_NE(metrics_text.find("tokenledger_scrub_last_ok 0"), std::string::npos);
    server_.stop();
    EXPECT_NE(server_.log().find("integrity check found damage at seq"), std::string::npos);
    EXPECT_EQ(signed_checkpoint_keys(), checkpoints_before) << "a checkpoint was signed over the damaged log";
    return ready["damage"];
  }

  e2e::TestServer server_;
  std::string data_, witness_;
  std::uint64_t head_ = 0;
  std::vector<std::string> checkpoints_;  // meta keys (hex)
};

TEST_F(FaultTamper, AChangedByteIsNamedByVerifyAFullStartAndTheScrub) {
  std::string record = ldb_get(data_, "events", seq_key(5));
  record[record.find("\"at\":\"") + 6] ^= 0x01;
  ldb_put(data_, "events", seq_key(5), record);
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["first_bad_seq"].num(), 5);
  EXPECT_EQ(report["kind"].str(), "chain");
  EXPECT_NE(failed_start({"--verify-on-start", "full"}).find("first bad seq 5"), std::string::npos);
  // A log this small is checked in full before serving, whatever --verify-on-start says.
  EXPECT_NE(failed_start({"--verify-on-start", "off"}).find("first bad seq 5"), std::string::npos);
  const Json damage = scrub_finds_damage();  // without that, the tail walk passes and the scrub finds it
  EXPECT_EQ(damage["seq"].num(), 5);
}

TEST_F(FaultTamper, ADeletedRecordIsNamed) {
  ldb_delete(data_, "events", seq_key(7));
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["first_bad_seq"].num(), 7);
  EXPECT_EQ(scrub_finds_damage()["seq"].num(), 7);
}

TEST_F(FaultTamper, TwoSwappedRecordsAreNamed) {
  const std::string a = ldb_get(data_, "events", seq_key(8));
  const std::string b = ldb_get(data_, "events", seq_key(9));
  ldb_put(data_, "events", seq_key(8), b);
  ldb_put(data_, "events", seq_key(9), a);
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["first_bad_seq"].num(), 8);
  EXPECT_EQ(scrub_finds_damage()["seq"].num(), 8);
}

TEST_F(FaultTamper, CuttingTheNewestEventsIsRefusedAtStart) {
  // Every events key after the newest checkpoint but the one at shutdown, as `deleterange`.
  const Outcome cut = ldb(data_, "events", {"deleterange", seq_key(head_ - 5), seq_key(head_ + 1)});
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  const Json report = report_of(verify(data_, {"--quick"}));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["first_bad_seq"].num(), static_cast<double>(head_ - 5));
  const std::string said = failed_start();
  EXPECT_NE(said.find("tokenledger-admin verify"), std::string::npos) << said;
  EXPECT_NE(said.find("first bad seq " + std::to_string(head_ - 5)), std::string::npos) << said;
  EXPECT_NE(failed_start({"--verify-on-start", "off"}).find("were cut"), std::string::npos);
  // --read-only still starts, serving reads, unready, naming the seq.
  server_.start({.extra_args = {"--read-only"}});
  const auto ready = server_.client().get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(Json::parse(ready.body)["damage"]["seq"].num(), static_cast<double>(head_ - 5));
  server_.stop();
}

TEST_F(FaultTamper, AHalfHiddenCutIsRefusedAtStartInEveryMode) {
  // The tail is cut and the newest checkpoint, the head marker and the projection checkpoint are
  // removed, but the index entries past the new end are left behind; or the marker alone is removed.
  const std::uint64_t keep = head_ - 6;
  ASSERT_EQ(ldb(data_, "events", {"deleterange", seq_key(keep + 1), seq_key(head_ + 1)}).exit_code, 0);
  for (const auto& key : checkpoints_) {
    const auto bytes = tl::from_hex(key.substr(2));
    const std::string k(bytes->begin(), bytes->end());
    if (k == "head" || (k.starts_with("checkpoint/") && tl::decode_be64(k.substr(11)) > keep)) {
      ldb_delete(data_, "meta", key);
    }
  }
  ldb_delete(data_, "projection_state", hex_of("checkpoint"));
  for (const char* mode : {"tail", "full", "off"}) {
    const std::string said = failed_start({"--verify-on-start", mode, "--start-full-check-limit", "0"});
    EXPECT_NE(said.find("first bad seq " + std::to_string(keep + 1)), std::string::npos) << mode << ": " << said;
  }
}

TEST_F(FaultTamper, ARemovedHeadMarkerIsNamed) {
  ldb_delete(data_, "meta", hex_of("head"));
  const Json report = report_of(verify(data_, {"--quick"}));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["kind"].str(), "head_marker");
  EXPECT_NE(failed_start({"--start-full-check-limit", "0"}).find("head marker is missing"), std::string::npos);
}

TEST_F(FaultTamper, ACutMadeConsistentAgainIsCaughtOnlyByTheWitness) {
  // The attacker removes the tail and everything that remembers it: the newest checkpoint, the
  // projection checkpoint, the index entries past the new end, and writes a head marker that fits.
  const std::uint64_t keep = head_ - 6;
  ASSERT_EQ(ldb(data_, "events", {"deleterange", seq_key(keep + 1), seq_key(head_ + 1)}).exit_code, 0);
  for (const auto& key : checkpoints_) {
    const auto bytes = tl::from_hex(key.substr(2));
    const std::string k(bytes->begin(), bytes->end());
    if (k.starts_with("checkpoint/") && tl::decode_be64(k.substr(11)) > keep) ldb_delete(data_, "meta", key);
  }
  const std::string kept_hash = tl::decode_record(ldb_get(data_, "events", seq_key(keep)))->hash;
  ldb_put(data_, "meta", hex_of("head"), tl::encode_be64(keep) + kept_hash);
  ldb_put(data_, "projection_state", hex_of("checkpoint"), tl::encode_be64(keep));
  for (const auto& [key, value] : ldb_entries(data_, "streams")) {
    if (tl::decode_be64(value) > keep) ldb_delete(data_, "streams", hex_of(key));
  }
  for (const auto& [key, value] : ldb_entries(data_, "audit_index")) {
    if (tl::decode_be64(key.substr(key.size() - 8)) > keep) ldb_delete(data_, "audit_index", hex_of(key));
  }
  const Json full = report_of(verify(data_));
  EXPECT_TRUE(full["ok"].boolean()) << "without a witness the cut is invisible: " << full["problem"].str();
  const Json witnessed = report_of(verify(data_, {"--witness", witness_}));
  EXPECT_FALSE(witnessed["ok"].boolean());
  EXPECT_EQ(witnessed["kind"].str(), "witness");
  EXPECT_EQ(witnessed["first_bad_seq"].num(), static_cast<double>(keep + 1));
  EXPECT_NE(failed_start().find("witness"), std::string::npos);
}

TEST_F(FaultTamper, ACutBelowASignedCheckpointIsNamed) {
  ASSERT_EQ(ldb(data_, "events", {"deleterange", seq_key(head_ - 4), seq_key(head_ - 1)}).exit_code, 0);
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["first_bad_seq"].num(), static_cast<double>(head_ - 4));
  EXPECT_NE(failed_start({"--verify-on-start", "full"}).find("first bad seq " + std::to_string(head_ - 4)),
            std::string::npos);
  EXPECT_EQ(scrub_finds_damage()["seq"].num(), static_cast<double>(head_ - 4));
}

// A rewrite from seq 10 on with every hash recomputed and the checkpoints signed again.
class FaultTamperRewrite : public FaultTamper {
 protected:
  void rewrite(const std::string& signing_key_file) {
    std::string prev = tl::decode_record(ldb_get(data_, "events", seq_key(9)))->hash;
    for (std::uint64_t seq = 10; seq <= head_; ++seq) {
      auto record = tl::decode_record(ldb_get(data_, "events", seq_key(seq))).value();
      if (seq == 10) record.source.ip = "203.0.113.66";  // the edit the rewrite hides
      record.prev_hash = prev;
      tl::encode_record(record);
      prev = record.hash;
      ldb_put(data_, "events", seq_key(seq), record.raw);
    }
    for (const auto& key : checkpoints_) {
      const auto bytes = tl::from_hex(key.substr(2));
      if (std::string(bytes->begin(), bytes->end()).starts_with("checkpoint/")) ldb_delete(data_, "meta", key);
    }
    ldb_put(data_, "meta", hex_of("checkpoint/" + tl::encode_be64(head_)),
            signed_checkpoint(signing_key_file, head_, prev, std::string(64, '0')));
    ldb_put(data_, "meta", hex_of("head"), tl::encode_be64(head_) + prev);
  }
};

TEST_F(FaultTamperRewrite, ReSignedWithTheFoundKeyIsCaughtByTheWitness) {
  rewrite(data_ + "/signing.key");
  EXPECT_TRUE(report_of(verify(data_))["ok"].boolean()) << "the found key vouches for the forgery";
  const Json report = report_of(verify(data_, {"--witness", witness_}));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["kind"].str(), "witness");
  EXPECT_NE(failed_start().find("witness"), std::string::npos);
}

TEST_F(FaultTamperRewrite, ReSignedWithAnotherKeyIsCaughtByThePinnedKey) {
  const std::string pinned =
      Json::parse(run({TOKENLEDGER_ADMIN_BIN, "checkpoints", "--data", data_, "--json"}).out)["public_key"].str();
  // A thief of a backup without keys (the default now) makes a key of their own.
  const std::string forged_key = server_.root_dir() + "/forged.key";
  {
    std::ofstream out(forged_key);
    out << std::string(64, 'a') << "\n";
  }
  fs::permissions(forged_key, fs::perms::owner_read | fs::perms::owner_write);  // else refused as loose
  rewrite(forged_key);
  fs::copy_file(forged_key, data_ + "/signing.key", fs::copy_options::overwrite_existing);
  EXPECT_TRUE(report_of(verify(data_))["ok"].boolean()) << "the key found in DIR vouches for the forgery";
  const Json report = report_of(verify(data_, {"--public-key", pinned}));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["kind"].str(), "checkpoint");
  EXPECT_NE(failed_start().find("witness"), std::string::npos) << "the witness carries the pinned key";
}

TEST_F(FaultTamper, ADeletedIndexEntryIsNamedByVerifyAndTheScrub) {
  // The audit index entries of one reveal: 't'<token>\0<seq>, 'a'<actor>\0<seq>, 'y'<type>\0<seq>.
  const std::string seq12 = tl::encode_be64(12);
  std::string victim;
  for (const auto& key : ldb_keys(data_, "audit_index")) {
    const auto bytes = tl::from_hex(key.substr(2));
    const std::string k(bytes->begin(), bytes->end());
    if (k[0] == 't' && k.ends_with(seq12)) victim = key;
  }
  ASSERT_FALSE(victim.empty());
  ldb_delete(data_, "audit_index", victim);
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["kind"].str(), "audit_index");
  EXPECT_EQ(report["first_bad_seq"].num(), 12);
  EXPECT_TRUE(report_of(verify(data_, {"--quick"}))["ok"].boolean());
  const Json damage = scrub_finds_damage();
  EXPECT_EQ(damage["seq"].num(), 12);
  EXPECT_EQ(damage["kind"].str(), "audit_index");
}

TEST_F(FaultTamper, AnAddedIndexEntryIsNamedByVerifyAndTheScrub) {
  ldb_put(data_, "audit_index", hex_of("amallory" + std::string(1, '\0') + tl::encode_be64(11)), "");
  const Json report = report_of(verify(data_));
  EXPECT_FALSE(report["ok"].boolean());
  EXPECT_EQ(report["kind"].str(), "audit_index");
  EXPECT_EQ(report["first_bad_seq"].num(), 11);
  EXPECT_EQ(scrub_finds_damage()["seq"].num(), 11);
}

}  // namespace
