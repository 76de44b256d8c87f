#include "tools/store_access.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "eventstore/database_id.hpp"
#include "projections/read_model.hpp"
#include "tools/cli.hpp"

namespace tl::admin {

namespace fs = std::filesystem;

std::string DataDir::db() const { return (fs::path(root) / "db").string(); }
std::string DataDir::master_key() const { return (fs::path(root) / "master.key").string(); }
std::string DataDir::introspection_secret() const { return (fs::path(root) / "introspection.secret").string(); }
std::string DataDir::signing_key() const { return (fs::path(root) / "signing.key").string(); }

std::string server_running_message(const DataDir& data) {
  return "the server is running on " + data.root + "; stop it first or use the HTTP API (it holds the database lock)";
}

bool database_locked(const std::string& db_dir) {
  const std::string lock_file = (fs::path(db_dir) / "LOCK").string();
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // RocksDB holds a write lock (fcntl F_SETLK) on DIR/LOCK while the database is open.
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool locked = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return locked;
}

std::unique_ptr<EventStore> open_store(const DataDir& data, Access access, bool log_only) {
  std::error_code ec;
  const bool exists = fs::exists(fs::path(data.db()) / "CURRENT", ec);
  if (!exists) {
    if (access != Access::writable_create) {
      throw UsageError("no tokenledger database in " + data.root + " (" + data.db() +
                       " is missing); pass --data with the server's data directory");
    }
    fs::create_directories(data.root, ec);
    if (ec) throw Failure("cannot create " + data.root + ": " + ec.message());
    fs::permissions(data.root, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  const bool read_only = access == Access::read_only;
  StoreOptions options{
      .extra_column_families = read_only && log_only ? std::vector<std::string>{} : ReadModel::column_families(),
      .read_only = read_only};
  auto store = EventStore::open(data.db(), std::move(options));
  if (!store) {
    std::string message = store.error().message;
    std::string lower = message;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (access != Access::read_only && lower.find("lock") != std::string::npos) {
      throw Failure(server_running_message(data));
    }
    throw Failure(message);
  }
  if (!read_only) {
    // A data directory gets its identity on its first writable open (backups tell databases apart by it).
    if (auto id = ensure_database_id(**store); !id) throw Failure(id.error().message);
  }
  return std::move(store).value();
}

}  // namespace tl::admin
