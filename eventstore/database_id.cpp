#include "eventstore/database_id.hpp"

#include <rocksdb/db.h>
#include <sodium.h>

#include <algorithm>

#include "eventstore/hex.hpp"

namespace tl {
namespace {

constexpr const char* kKey = "database_id";
constexpr std::size_t kIdBytes = 16;

bool well_formed(const std::string& id) {
  return id.size() == 2 * kIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<std::optional<std::string>> read_database_id(const EventStore& store) {
  std::string value;
  const auto s = store.db().Get(rocksdb::ReadOptions(), store.column_family("meta"), kKey, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Error::unavailable("cannot read the database id: " + s.ToString());
  if (!well_formed(value)) return Error::internal("the stored database id is not 32 hex digits (the meta data was altered)");
  return std::optional<std::string>(std::move(value));
}

Result<std::string> ensure_database_id(EventStore& store) {
  auto existing = read_database_id(store);
  if (!existing) return existing.error();
  if (*existing) return **existing;
  if (sodium_init() < 0) return Error::internal("libsodium could not be initialised");
  unsigned char bytes[kIdBytes];
  randombytes_buf(bytes, sizeof bytes);
  std::string id = to_hex(bytes, sizeof bytes);
  rocksdb::WriteOptions sync;
  sync.sync = true;  // an id that is handed out (in a backup) must survive a crash
  const auto s = store.db().Put(sync, store.column_family("meta"), kKey, id);
  if (!s.ok()) return Error::unavailable("cannot store the database id: " + s.ToString());
  return id;
}

}  // namespace tl
