// Deleting a token destroys its code: the log keeps the code sealed under a per-token data key,
// and the delete removes that key (wrapped) from the keys column family. After a delete and a
// compaction, no file of the data directory may still hold the deleted token's wrapped data key,
// while a live token's is still there (so the scan does see keys that exist).
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <map>
#include <memory>
#include <optional>

#include "test_server.hpp"

namespace e2e {
namespace {

// The database of a stopped server, opened directly, every column family with it.
class RawDb {
 public:
  RawDb(const std::string& path, bool read_only) {
    rocksdb::Options options;
    // Compaction output stays uncompressed, so a key that survived shows as its own bytes.
    options.compression = rocksdb::kNoCompression;
    std::vector<std::string> names;
    check(rocksdb::DB::ListColumnFamilies(options, path, &names), "list column families");
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    rocksdb::DB* db = nullptr;
    check(read_only ? rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles_, &db)
                    : rocksdb::DB::Open(options, path, descriptors, &handles_, &db),
          "open " + path);
    db_.reset(db);
    for (std::size_t i = 0; i < names.size(); ++i) families_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::optional<std::string> get(const std::string& family, const std::string& key) {
    std::string value;
    const rocksdb::Status s = db_->Get({}, family_handle(family), key, &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "get " + family + "/" + key);
    return value;
  }

  // Flushes and compacts every column family down to the last level, where tombstones and the
  // values they hide are dropped.
  void compact_everything() {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* handle : handles_) {
      check(db_->Flush({}, handle), "flush");
      check(db_->CompactRange(options, handle, nullptr, nullptr), "compact");
    }
  }

 private:
  static void check(const rocksdb::Status& s, const std::string& what) {
    if (!s.ok()) throw std::runtime_error("RocksDB " + what + ": " + s.ToString());
  }
  rocksdb::ColumnFamilyHandle* family_handle(const std::string& name) {
    auto it = families_.find(name);
    if (it == families_.end()) throw std::runtime_error("no column family " + name);
    return it->second;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

TEST(SecretsTest, AfterADeleteAndACompactionTheDeletedTokensDataKeyIsGone) {
  TestServer server;
  server.start();
  HttpClient admin = login(server, "admin");
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(create_token(alice, "token " + std::to_string(i))["id"].str());
  const std::string doomed = ids[1], live = ids[2];
  ASSERT_EQ(server.stop(), 0);

  const std::string db_dir = server.data_dir() + "/db";
  std::string doomed_key, live_key;
  {
    RawDb db(db_dir, true);
    doomed_key = db.get("keys", doomed).value_or("");
    live_key = db.get("keys", live).value_or("");
  }
  ASSERT_GE(doomed_key.size(), 64u) << "no wrapped data key stored for " << doomed;
  ASSERT_GE(live_key.size(), 64u) << "no wrapped data key stored for " << live;
  ASSERT_FALSE(files_containing(server.data_dir(), doomed_key).empty()) << "the scan finds the key before the delete";

  server.start();
  alice = login(server, "alice");
  const std::string live_code = reveal(alice, live);
  ASSERT_EQ(alice.del("/api/v1/tokens/" + doomed).status, 204);
  ASSERT_EQ(server.stop(), 0);

  {
    RawDb db(db_dir, false);
    db.compact_everything();
    EXPECT_FALSE(db.get("keys", doomed).has_value()) << "the keys column family still holds the deleted token's key";
    EXPECT_EQ(db.get("keys", live).value_or(""), live_key);
  }
  // Every file: tables, write-ahead logs, manifests, RocksDB's own logs, the projections' files.
  EXPECT_EQ(files_containing(server.data_dir(), doomed_key), std::vector<std::string>{})
      << "the deleted token's wrapped data key survived the compaction";
  EXPECT_EQ(files_containing(server.data_dir(), doomed_key.substr(0, 48)), std::vector<std::string>{})
      << "part of the deleted token's wrapped data key (its nonce) survived the compaction";
  EXPECT_FALSE(files_containing(server.data_dir(), live_key).empty()) << "the live token's key is gone too";

  // The compacted database serves on: the live code still shows, the deleted one is gone.
  server.start();
  alice = login(server, "alice");
  EXPECT_EQ(reveal(alice, live), live_code);
  EXPECT_EQ(alice.post("/api/v1/tokens/" + doomed + "/reveal").status, 404);
  EXPECT_GT(audit_event_count(alice), 0) << "the chain verifies";
}

}  // namespace
}  // namespace e2e
