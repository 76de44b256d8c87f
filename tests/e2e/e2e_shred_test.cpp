// Issue 12, case 10: bounded shredding. Within --shred-seconds of a token's deletion no file of
// the data directory, write-ahead log included, holds its wrapped data key: a copy of the
// directory taken while the server runs is scanned byte by byte.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <thread>

#include "test_server.hpp"

namespace fs = std::filesystem;

namespace e2e {
namespace {

// The values of `keys` in the "keys" column family of the stopped server's database.
std::vector<std::string> stored_data_keys(const std::string& db_dir, const std::vector<std::string>& keys) {
  rocksdb::Options options;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, db_dir, &names).ok()) throw std::runtime_error("list " + db_dir);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(options, db_dir, descriptors, &handles, &db).ok()) throw std::runtime_error("open");
  std::vector<std::string> values;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "keys") continue;
    for (const auto& key : keys) {
      std::string value;
      values.push_back(db->Get({}, handles[i], key, &value).ok() ? value : "");
    }
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return values;
}

// A copy of `from` as it is now, taken while the server writes: files that vanish mid-copy
// (compacted away) are left out.
void copy_live_directory(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    const fs::path target = fs::path(to) / fs::relative(entry.path(), from);
    std::error_code ec;
    if (entry.is_directory(ec)) {
      fs::create_directories(target, ec);
    } else {
      fs::create_directories(target.parent_path(), ec);
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec);
    }
  }
}

TEST(ShredTest, WithinShredSecondsOfADeleteNoFileHoldsTheDataKey) {
  TestServer server;
  const StartOptions shred{.extra_args = {"--shred-seconds", "2"}};
  server.start(shred);
  HttpClient admin = login(server, "admin");
  create_user(admin, "alice", {"api-tokens"});
  HttpClient alice = login(server, "alice");
  const std::string doomed = create_token(alice, "doomed")["id"].str();
  const std::string live = create_token(alice, "live")["id"].str();
  ASSERT_EQ(server.stop(), 0);
  const auto keys = stored_data_keys(server.data_dir() + "/db", {doomed, live});
  ASSERT_GE(keys[0].size(), 64u) << "no wrapped data key stored for " << doomed;
  ASSERT_GE(keys[1].size(), 64u) << "no wrapped data key stored for " << live;

  server.start(shred);
  alice = login(server, "alice");
  ASSERT_EQ(alice.del("/api/v1/tokens/" + doomed).status, 204);
  const auto deleted_at = std::chrono::steady_clock::now();
  const std::string copy = server.root_dir() + "/copy";
  // Polled rather than slept through: the bound is 2 s; 1 s more for the copy and a loaded machine.
  std::vector<std::string> holding;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    copy_live_directory(server.data_dir(), copy);
    holding = files_containing(copy, keys[0]);
  } while (!holding.empty() && std::chrono::steady_clock::now() - deleted_at < std::chrono::seconds(3));
  EXPECT_EQ(holding, std::vector<std::string>{}) << "the deleted token's data key outlived --shred-seconds 2";
  EXPECT_EQ(files_containing(copy, keys[0].substr(0, 48)), std::vector<std::string>{}) << "part of it (its nonce) too";
  EXPECT_FALSE(files_containing(copy, keys[1]).empty()) << "the scan must still find the live token's key";
  // The live code still opens after the shred.
  EXPECT_EQ(reveal(alice, live).rfind("tlk_", 0), 0u);
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

}  // namespace
}  // namespace e2e
