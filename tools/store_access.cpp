#include "tools/store_access.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "eventstore/database_id.hpp"
#include "eventstore/lock_holder.hpp"
#include "projections/read_model.hpp"
#include "tools/cli.hpp"

namespace tl::admin {

namespace fs = std::filesystem;

std::string DataDir::db() const { return (fs::path(root) / "db").string(); }
std::string DataDir::master_key() const { return (fs::path(root) / "master.key").string(); }
std::string DataDir::introspection_secret() const { return (fs::path(root) / "introspection.secret").string(); }
std::string DataDir::signing_key() const { return (fs::path(root) / "signing.key").string(); }

std::string server_running_message(const DataDir& data) {
  const auto holder = lock_holder(data.db());
  const std::string who = holder ? describe_lock_holder(data.root, *holder) : "the server is running on " + data.root;
  return who + "; stop it first or use the HTTP API (it holds the database lock)";
}

bool database_locked(const std::string& db_dir) { return lock_holder(db_dir).has_value(); }

std::unique_ptr<EventStore> open_store(const DataDir& data, Access access, bool log_only) {
  std::error_code ec;
  const bool exists = fs::exists(fs::path(data.db()) / "CURRENT", ec);
  if (!exists) {
    if (access != Access::writable_create) {
      throw UsageError("no tokenledger database in " + data.root + " (" + data.db() +
                           " is missing); pass --data with the server's data directory",
                       ErrorKind::cannot_open);
    }
    fs::create_directories(data.root, ec);
    if (ec) throw Failure("cannot create " + data.root + ": " + ec.message());
    fs::permissions(data.root, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  const bool read_only = access == Access::read_only;
  // A --read-only server takes no RocksDB lock: it is named by its own (eventstore/lock_holder.hpp).
  if (const auto holder = read_only ? std::nullopt : file_lock_holder(read_only_lock_file(data.root))) {
    throw Failure(describe_lock_holder(data.root, *holder, /*read_only=*/true) +
                      "; stop it first (a change now would leave it serving a copy that no longer changes)",
                  ErrorKind::server_running);
  }
  StoreOptions options{
      .extra_column_families = read_only && log_only ? std::vector<std::string>{} : ReadModel::column_families(),
      .read_only = read_only};
  auto store = EventStore::open(data.db(), std::move(options));
  if (!store) {
    std::string message = store.error().message;
    std::string lower = message;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (access != Access::read_only && lower.find("lock") != std::string::npos) {
      throw Failure(server_running_message(data), ErrorKind::server_running);
    }
    throw Failure(message, ErrorKind::cannot_open);
  }
  if (!read_only) {
    // A data directory gets its identity on its first writable open (backups tell databases apart by it).
    if (auto id = ensure_database_id(**store); !id) throw Failure(id.error().message);
  }
  return std::move(store).value();
}

}  // namespace tl::admin
