#include "eventstore/lock_holder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tl {

std::optional<LockHolder> lock_holder(const std::string& db_dir) {
  return file_lock_holder((std::filesystem::path(db_dir) / "LOCK").string());
}

std::string read_only_lock_file(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "read-only.lock").string();
}

Result<SharedFileLock> SharedFileLock::take(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable("cannot open " + file);
  struct flock lock {};
  lock.l_type = F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &lock) != 0) {
    ::close(fd);
    return Error::unavailable("cannot lock " + file + " (a writer holds it?)");
  }
  return SharedFileLock(fd);
}

SharedFileLock::SharedFileLock(SharedFileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

SharedFileLock::~SharedFileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing lets the lock go
}

std::optional<LockHolder> file_lock_holder(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool got = ::fcntl(fd, F_GETLK, &probe) == 0;
  ::close(fd);
  if (!got || probe.l_type == F_UNLCK) return std::nullopt;
  LockHolder holder{.pid = static_cast<long>(probe.l_pid), .name = {}};
  std::ifstream comm("/proc/" + std::to_string(holder.pid) + "/comm");
  if (comm) std::getline(comm, holder.name);
  return holder;
}

std::string describe_lock_holder(const std::string& data_dir, const LockHolder& holder, bool read_only) {
  const std::string pid = " (pid " + std::to_string(holder.pid) + ")";
  if (read_only) return "a --read-only tokenledger is serving " + data_dir + pid;
  if (holder.name == "tokenledger") return "tokenledger is serving " + data_dir + pid;
  // comm is cut at 15 bytes: "tokenledger-adm".
  if (holder.name.starts_with("tokenledger-adm")) return "tokenledger-admin is using " + data_dir + pid;
  const std::string name = holder.name.empty() ? "another process" : "process '" + holder.name + "'";
  return name + pid + " holds the database in " + data_dir;
}

}  // namespace tl
