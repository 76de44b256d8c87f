#include "service/key_material.hpp"

#include <filesystem>
#include <optional>

namespace tl {

Status require_key_file(const EventStore& store, const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || store.head().seq == 0) return {};
  return Error::unavailable(
      "the " + std::string(what) + " " + path + " is missing, but the database holds " +
      std::to_string(store.head().seq) +
      " events: it is never created again for a database with history. Restore the file from where it was kept "
      "(or from a backup made with `tokenledger-admin backup --include-keys`), or point the matching option at it");
}

Status check_master_key(EventStore& store, const TokenSecrets& secrets, const std::string& key_file, bool may_record) {
  std::optional<std::string> recorded;
  auto read = store.read_stream(std::string(kKeyCheckStream), [&](const Record& r) {
    if (const auto* check = std::get_if<KeyCheckRecorded>(&r.event)) recorded = check->master_key_check;
    return !recorded;
  });
  if (!read) return read;
  if (recorded) {
    if (*recorded == secrets.key_check_value()) return {};
    return Error::unavailable("the master key in " + key_file +
                              " is not the one this database's codes are sealed under (its check value differs "
                              "from the one recorded in the log). Restore this database's master.key");
  }
  if (!may_record) return {};
  auto appended = store.append({std::string(kKeyCheckStream), kNoStream, {KeyCheckRecorded{secrets.key_check_value()}},
                                Actor{"tokenledger", "system", ""}, Source{}, "", {}});
  if (!appended) return std::move(appended).error();
  return {};
}

}  // namespace tl
