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

// `p` absolute, with symbolic links and ".." resolved as far as it exists.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : out;
}

// True when `inner` is `outer` or lies under it (both resolved).
bool within(const fs::path& inner, const fs::path& outer) {
  const fs::path rel = inner.lexically_relative(outer);
  return !rel.empty() && *rel.begin() != "..";
}

// Copies `from` to `to` with mode 0600 from its creation on: into `to`.tmp, then renamed over
// `to`, so `to` is never left empty or half written, and `from` is never touched.
Status copy_private(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::exists(to, ec) && fs::equivalent(from, to, ec)) {
    return Error::conflict("will not copy " + from.string() + " onto itself");
  }
  const fs::path tmp = to.string() + ".tmp";
  fs::remove(tmp, ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable("cannot create " + tmp.string());
  ::close(fd);
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  if (!ec) fs::rename(tmp, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Error::unavailable("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  return {};
}

// Refuses (conflict) a BACKUP_DIR whose newest backup holds a head this log never had: a copy
// restored from an older backup and written to since is another history, and its backups must not
// become "the newest" of the original's directory.
Status check_same_history(const Backups& engine, const EventLog& store, const std::string& backup_dir) {
  const std::vector<BackupEntry> backups = engine.list();
  for (auto b = backups.rbegin(); b != backups.rend(); ++b) {
    const auto metadata = parse_backup_metadata(b->metadata);
    if (!metadata) continue;
    const Head& theirs = metadata->head;
    const std::string other = backup_dir + " holds backup " + std::to_string(b->id) + " at seq " +
                              std::to_string(theirs.seq) + " (hash " + theirs.hash + "), ";
    const Head ours = store.head();
    if (theirs.seq > ours.seq) {
      return Error::conflict(other + "past this database's head seq " + std::to_string(ours.seq) +
                             ": this is an older copy (a restore?) of that database; give it another backup directory");
    }
    if (theirs.seq == 0) return {};
    std::string hash;
    auto read = store.read_range(theirs.seq, theirs.seq, [&](const Record& r) {
      hash = r.hash;
      return false;
    });
    if (!read) return std::move(read).error();
    if (hash != theirs.hash) {
      return Error::conflict(other + "but this database's record there has hash " + hash +
                             ": the two histories differ since (a restored copy written to?); give it another backup "
                             "directory");
    }
    return {};
  }
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
  // Only ever an id is shown: whatever else the file holds (a key behind a link) stays unsaid.
  if (!fs::is_regular_file(fs::symlink_status(id_file(backup_dir), ec))) return "(not a file)";
  const std::string id = trimmed(read_all(id_file(backup_dir)));
  const bool looks_like_id = id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  return looks_like_id ? id : "(not a database id)";
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

Status check_backup_location(const std::string& backup_dir, const std::string& data_dir, const KeyFilePaths& keys) {
  const fs::path backups = resolved(backup_dir);
  const fs::path data = resolved(data_dir);
  if (within(backups, data)) {
    return Error::conflict("backup directory " + backup_dir + " is inside the data directory " + data_dir +
                           " (or is it); keep backups outside it, best on another volume");
  }
  if (within(data, backups)) {
    return Error::conflict("backup directory " + backup_dir + " holds the data directory " + data_dir +
                           "; keep backups outside it, best on another volume");
  }
  // What the directory holds is its own: a symbolic link there (its engine directory, its id, a
  // key file) could point the copy into the live database or read a key as the id.
  std::vector<std::string> own = {"rocksdb", "database_id"};
  own.insert(own.end(), kBackupKeyFiles.begin(), kBackupKeyFiles.end());
  for (const std::string& name : own) {
    std::error_code ec;
    if (fs::is_symlink(fs::path(backup_dir) / name, ec)) {
      return Error::conflict("backup directory " + backup_dir + " holds " + name +
                             " as a symbolic link; a backup directory holds its own files, choose another");
    }
  }
  const std::string* sources[] = {&keys.master_key, &keys.introspection_secret, &keys.signing_key};
  for (std::size_t i = 0; i < kBackupKeyFiles.size(); ++i) {
    if (sources[i]->empty()) continue;
    const fs::path copy = fs::path(backup_dir) / kBackupKeyFiles[i];
    std::error_code ec;
    const bool same_file = fs::exists(copy, ec) && fs::equivalent(*sources[i], copy, ec);
    if (same_file || resolved(*sources[i]).parent_path() == backups) {
      return Error::conflict("backup directory " + backup_dir + " holds the key file " + *sources[i] +
                             " itself, which a backup with the keys would copy onto itself; choose another directory");
    }
  }
  return {};
}

Status prepare_backup_dir(const std::string& backup_dir, const std::string& data_dir, const KeyFilePaths& keys,
                          const std::string& database_id) {
  if (auto s = check_backup_location(backup_dir, data_dir, keys); !s) return s;
  std::error_code ec;
  if (fs::exists(backup_dir, ec) && !fs::is_directory(backup_dir, ec)) {
    return Error::invalid_field("backup directory " + backup_dir + " is not a directory");
  }
  if (auto s = make_private_dir(backup_dir); !s) return s;
  if (::access(backup_dir.c_str(), W_OK | X_OK) != 0) {
    return Error::unavailable("backup directory " + backup_dir + " is not writable by this process");
  }
  if (database_id.empty()) return {};
  return check_backup_dir(backup_dir, database_id, keys.master_key);
}

std::vector<std::string> key_files_in(const std::string& backup_dir) {
  std::vector<std::string> present;
  for (std::string_view name : kBackupKeyFiles) {
    std::error_code ec;
    if (fs::exists(fs::path(backup_dir) / name, ec)) present.emplace_back(name);
  }
  return present;
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
  if (auto s = check_backup_location(request.dir, request.data_dir, request.keys); !s) return std::move(s).error();
  if (auto s = check_backup_dir(request.dir, **database_id, request.keys.master_key); !s) return std::move(s).error();
  if (auto s = make_private_dir(request.dir); !s) return std::move(s).error();
  auto engine = Backups::open(backup_engine_dir(request.dir), /*read_only=*/false, request.tuning);
  if (!engine) {
    return Error::unavailable("cannot open the backup directory " + backup_engine_dir(request.dir) + ": " +
                              engine.error().message);
  }
  if (auto s = check_same_history(**engine, store, request.dir); !s) return std::move(s).error();
  Backups* backups = engine->get();
  struct Attached {
    const std::function<void(Backups*)>& attach;
    ~Attached() {
      if (attach) attach(nullptr);
    }
  } attached{request.attach};
  if (request.attach) request.attach(backups);
  const auto stopping = [&] { return request.stop != nullptr && request.stop->load(); };
  if (stopping()) return Error::unavailable("the backup was stopped: the server is stopping");
  std::function<void()> progress;
  if (request.progress) progress = [backups, report = request.progress] { report(backups->bytes_copied()); };
  auto created = (*engine)->create(
      store, request.scratch_dir, [&](const Head& head) { return encode_backup_metadata(head, request.include_keys); },
      std::move(progress));
  if (!created && stopping()) return Error::unavailable("the backup was stopped: the server is stopping");
  if (!created) return Error::unavailable("the backup failed: " + created.error().message);
  if (auto verified = (*engine)->verify(created->id); !verified) {
    return Error::unavailable("backup " + std::to_string(created->id) +
                              " does not verify: " + verified.error().message);
  }
  if (auto s = write_id_file(request.dir, **database_id); !s) return std::move(s).error();
  BackupOutcome out{
      .id = created->id, .head = created->head, .database_id = **database_id, .include_keys = request.include_keys};
  if (request.include_keys) {
    auto copied = copy_key_files(request.keys, request.dir);
    if (!copied) {
      (void)(*engine)->remove(created->id);  // no backup that says it has the keys without them
      return std::move(copied).error();
    }
    out.key_files = std::move(*copied);
  }
  for (const BackupEntry& e : (*engine)->list()) {
    if (e.id == out.id) out.created_unix = e.created_unix, out.size = e.size;
  }
  out.key_files_in_directory = key_files_in(request.dir);
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
