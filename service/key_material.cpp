#include "service/key_material.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace tl {

Status require_key_file(const EventLog& store, const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || store.head().seq == 0) return {};
  return Error::unavailable(
      "the " + std::string(what) + " " + path + " is missing, but the database holds " +
      std::to_string(store.head().seq) +
      " events: it is never created again for a database with history. Restore the file from where it was kept "
      "(or from a backup made with `tokenledger-admin backup --include-keys`), or point the matching option at it");
}

Status require_private_file(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  if ((st.st_mode & 077) == 0) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return Error::unavailable("the " + std::string(what) + " " + path + " is accessible by other users (mode " + mode +
                            "): a key file must be private to the server's user. Run `chmod 600 " + path + "`");
}

Result<std::string> read_secret_file(const std::string& path, std::string_view what) {
  if (auto private_file = require_private_file(path, what); !private_file) return std::move(private_file).error();
  std::ifstream in(path);
  if (!in) {
    return Error::unavailable("cannot read the " + std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  std::string secret;
  std::getline(in, secret);
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (auto long_enough = check_secret_length(secret, std::string(what) + " " + path); !long_enough) {
    return std::move(long_enough).error();
  }
  return secret;
}

std::size_t make_data_dir_private(const std::string& dir) {
  namespace fs = std::filesystem;
  std::size_t changed = 0;
  auto tighten = [&](const fs::path& path, fs::perms wanted) {
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (ec || fs::is_symlink(status)) return;
    if ((status.permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none) return;
    fs::permissions(path, wanted, fs::perm_options::replace, ec);
    if (!ec) ++changed;
  };
  tighten(dir, fs::perms::owner_all);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const bool folder = it->is_directory(ec);
    tighten(it->path(), folder ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write);
  }
  return changed;
}

Status check_secret_length(std::string_view secret, std::string_view what) {
  if (secret.size() >= kMinSecretBytes) return {};
  return Error::unavailable("the " + std::string(what) + " holds " + std::to_string(secret.size()) +
                            " bytes; a secret needs at least " + std::to_string(kMinSecretBytes) +
                            " (e.g. `openssl rand -hex 32`)");
}

namespace {

// OK when the log has no live token (nothing to try) or when the first live token's sealed code
// opens with `secrets`; unavailable naming `key_file` otherwise.
Status opens_a_live_code(const EventLog& store, const TokenSecrets& secrets, const std::string& key_file) {
  std::string token_id, wrapped;
  auto scanned = store.scan_side(SideStore::keys, [&](std::string_view key, std::string_view value) {
    token_id = key;
    wrapped = value;
    return false;
  });
  if (!scanned) return scanned;
  if (token_id.empty()) return {};
  std::string sealed;
  auto read = store.read_stream(token_id, [&](const Record& r) {
    if (const auto* created = std::get_if<TokenCreated>(&r.event)) sealed = created->code_sealed;
    return false;
  });
  if (!read) return read;
  if (sealed.empty() || secrets.unseal(token_id, sealed, wrapped)) return {};
  return Error::unavailable("the master key in " + key_file + " does not open this database's codes (token " +
                            token_id + "'s does not open with it). Restore this database's master.key");
}

}  // namespace

Status check_master_key(EventLog& store, const TokenSecrets& secrets, const std::string& key_file, bool may_record) {
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
  // No check value yet (a log written before they existed, or by tokenledger-bench-gen): a live
  // token's code must open with this key before its check value is sealed into the log, or a
  // wrong key would lock out the right one for good.
  if (auto opens = opens_a_live_code(store, secrets, key_file); !opens) return opens;
  if (!may_record) return {};
  auto appended = store.append({.stream = std::string(kKeyCheckStream),
                                .expected_version = kNoStream,
                                .events = {KeyCheckRecorded{secrets.key_check_value()}},
                                .actor = Actor{"tokenledger", Via::system, ""},
                                .source = Source{}});
  if (!appended) return std::move(appended).error();
  return {};
}

}  // namespace tl
