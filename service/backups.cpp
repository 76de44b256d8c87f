#include "service/backups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "eventstore/database_id.hpp"

namespace tl {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

fs::path id_file(const std::string& backup_dir) { return fs::path(backup_dir) / "database_id"; }

Status make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::unavailable("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Error::unavailable("cannot make " + dir.string() + " owner-only: " + ec.message());
  return {};
}

Status write_id_file(const std::string& backup_dir, const std::string& id) {
  std::ofstream out(id_file(backup_dir), std::ios::binary | std::ios::trunc);
  out << id << "\n";
  if (!out.flush()) return Error::unavailable("cannot write " + id_file(backup_dir).string());
  return {};
}

// Copies `from` to `to` (replacing it) with mode 0600 from its creation on.
Status copy_private(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove(to, ec);
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable("cannot create " + to.string());
  ::close(fd);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Error::unavailable("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  if (ec) return Error::unavailable("cannot make " + to.string() + " owner-only: " + ec.message());
  return {};
}

}  // namespace

KeyFilePaths KeyFilePaths::in(const std::string& data_dir) {
  const fs::path root(data_dir);
  return {(root / "master.key").string(), (root / "introspection.secret").string(), (root / "signing.key").string()};
}

std::string backup_engine_dir(const std::string& backup_dir) { return (fs::path(backup_dir) / "rocksdb").string(); }

std::string encode_backup_metadata(const Head& head, bool include_keys) {
  return std::to_string(head.seq) + " " + head.hash + (include_keys ? " keys" : " nokeys");
}

std::optional<BackupMetadata> parse_backup_metadata(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  BackupMetadata m;
  const std::string_view seq = text.substr(0, space);
  const auto [end, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), m.head.seq);
  if (ec != std::errc() || end != seq.data() + seq.size()) return std::nullopt;
  std::string_view rest = text.substr(space + 1);
  const auto second = rest.find(' ');
  m.head.hash = std::string(rest.substr(0, second));
  if (m.head.hash.empty()) return std::nullopt;
  if (second == std::string_view::npos) return m;  // "SEQ HASH": written before issue 16
  const std::string_view keys = rest.substr(second + 1);
  if (keys != "keys" && keys != "nokeys") return std::nullopt;
  m.include_keys = keys == "keys";
  return m;
}

std::string backup_database_id(const std::string& backup_dir) {
  std::error_code ec;
  if (!fs::exists(id_file(backup_dir), ec)) return {};
  return trimmed(read_all(id_file(backup_dir)));
}

Status check_backup_dir(const std::string& backup_dir, const std::string& database_id,
                        const std::string& master_key_file) {
  std::error_code ec;
  if (fs::exists(id_file(backup_dir), ec)) {
    const std::string theirs = backup_database_id(backup_dir);
    if (theirs == database_id) return {};
    return Error::conflict(backup_dir + " holds backups of another database (database id " + theirs + "; this one is " +
                           database_id + "); choose another backup directory");
  }
  const fs::path copied = fs::path(backup_dir) / "master.key";
  if (fs::exists(copied, ec) && fs::exists(master_key_file, ec) && read_all(copied) != read_all(master_key_file)) {
    return Error::conflict(backup_dir +
                           " holds backups of another data directory (its master.key differs); choose another "
                           "backup directory");
  }
  return {};
}

Result<std::vector<std::string>> copy_key_files(const KeyFilePaths& from, const std::string& to) {
  const std::string* sources[] = {&from.master_key, &from.introspection_secret, &from.signing_key};
  std::vector<std::string> copied;
  for (std::size_t i = 0; i < kBackupKeyFiles.size(); ++i) {
    std::error_code ec;
    if (sources[i]->empty() || !fs::exists(*sources[i], ec)) continue;
    const std::string name(kBackupKeyFiles[i]);
    if (auto s = copy_private(*sources[i], fs::path(to) / name); !s) return std::move(s).error();
    copied.push_back(name);
  }
  return copied;
}

Result<BackupOutcome> take_backup(EventStore& store, const BackupRequest& request) {
  auto database_id = read_database_id(store);
  if (!database_id) return std::move(database_id).error();
  if (!*database_id) return Error::internal("the database has no id yet (it was never opened writable)");
  if (auto s = check_backup_dir(request.dir, **database_id, request.keys.master_key); !s) return std::move(s).error();
  if (auto s = make_private_dir(request.dir); !s) return std::move(s).error();
  auto engine = Backups::open(backup_engine_dir(request.dir), /*read_only=*/false, request.tuning);
  if (!engine) {
    return Error::unavailable("cannot open the backup directory " + backup_engine_dir(request.dir) + ": " +
                              engine.error().message);
  }
  // Counted on the copying thread only, shared with the callback the engine keeps a copy of.
  auto calls = std::make_shared<std::uint64_t>(0);
  std::function<void()> progress;
  if (request.progress) {
    progress = [calls, every = request.tuning.progress_every, report = request.progress] { report(++*calls * every); };
  }
  auto created = (*engine)->create(
      store, request.scratch_dir, [&](const Head& head) { return encode_backup_metadata(head, request.include_keys); },
      std::move(progress));
  if (!created) return Error::unavailable("the backup failed: " + created.error().message);
  if (auto verified = (*engine)->verify(created->id); !verified) {
    return Error::unavailable("backup " + std::to_string(created->id) +
                              " does not verify: " + verified.error().message);
  }
  if (auto s = write_id_file(request.dir, **database_id); !s) return std::move(s).error();
  BackupOutcome out{created->id, created->head, **database_id, request.include_keys, {}, 0, 0};
  if (request.include_keys) {
    auto copied = copy_key_files(request.keys, request.dir);
    if (!copied) return std::move(copied).error();
    out.key_files = std::move(*copied);
  }
  for (const BackupEntry& e : (*engine)->list()) {
    if (e.id == out.id) out.created_unix = e.created_unix, out.size = e.size;
  }
  return out;
}

Result<std::vector<BackupListing>> list_backups(const std::string& backup_dir) {
  std::error_code ec;
  if (!fs::exists(backup_engine_dir(backup_dir), ec)) {
    return Error::not_found("no backups in " + backup_dir + " (" + backup_engine_dir(backup_dir) + " is missing)");
  }
  auto engine = Backups::open(backup_engine_dir(backup_dir), /*read_only=*/true);
  if (!engine) {
    return Error::unavailable("cannot open the backups in " + backup_engine_dir(backup_dir) + ": " +
                              engine.error().message);
  }
  std::vector<BackupListing> out;
  for (BackupEntry& e : (*engine)->list()) {
    auto metadata = parse_backup_metadata(e.metadata);
    out.push_back({std::move(e), std::move(metadata)});
  }
  return out;
}

}  // namespace tl
