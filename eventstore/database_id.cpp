#include "eventstore/database_id.hpp"

#include <sodium.h>

#include <algorithm>

#include "common/hex.hpp"

namespace tl {
namespace {

constexpr const char* kKey = "database_id";
constexpr std::size_t kIdBytes = 16;

bool well_formed(const std::string& id) {
  return id.size() == 2 * kIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<std::optional<std::string>> read_database_id(const EventLog& store) {
  auto value = store.get_side(SideStore::meta, kKey);
  if (!value) return Error::unavailable("cannot read the database id: " + value.error().message);
  if (!*value) return std::optional<std::string>();
  if (!well_formed(**value))
    return Error::internal("the stored database id is not 32 hex digits (the meta data was altered)");
  return std::move(value).value();
}

Result<std::string> ensure_database_id(EventLog& store) {
  auto existing = read_database_id(store);
  if (!existing) return existing.error();
  if (*existing) return **existing;
  if (sodium_init() < 0) return Error::internal("libsodium could not be initialised");
  unsigned char bytes[kIdBytes];
  randombytes_buf(bytes, sizeof bytes);
  std::string id = to_hex(bytes, sizeof bytes);
  // A synced write: an id that is handed out (in a backup) must survive a crash.
  if (auto s = store.put_side(SideStore::meta, kKey, id); !s) {
    return Error::unavailable("cannot store the database id: " + s.error().message);
  }
  return id;
}

}  // namespace tl
