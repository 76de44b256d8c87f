#include "pg/pg_instance.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "eventstore/pg_connection.hpp"

namespace tl::testing {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string script() { return std::string(TOKENLEDGER_SOURCE_DIR) + "/tests/pg/pg_instance.sh"; }

}  // namespace

PgInstance& PgInstance::get() {
  static PgInstance instance(0);
  return instance;
}

std::unique_ptr<PgInstance> PgInstance::start() { return std::unique_ptr<PgInstance>(new PgInstance(0)); }

std::unique_ptr<PgInstance> PgInstance::start_standby() { return std::unique_ptr<PgInstance>(new PgInstance(port_)); }

PgInstance::PgInstance(int primary_port) {
  std::string pattern = (std::filesystem::temp_directory_path() / "tokenledger-pg-XXXXXX").string();
  dir_ = ::mkdtemp(pattern.data());
  port_ = free_port();
  const std::string command = primary_port == 0 ? script() + " start " + dir_ + " " + std::to_string(port_)
                                                : script() + " standby " + dir_ + " " + std::to_string(port_) + " " +
                                                      std::to_string(primary_port);
  if (std::system(command.c_str()) != 0) throw std::runtime_error("PostgreSQL did not start: " + command);
}

PgInstance::~PgInstance() {
  const std::string stop = script() + " stop " + dir_;
  (void)std::system(stop.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgInstance::kill() {
  const std::string command = script() + " kill " + dir_;
  if (std::system(command.c_str()) != 0) throw std::runtime_error("kill failed: " + command);
}

void PgInstance::restart() {
  const std::string command = script() + " restart " + dir_ + " " + std::to_string(port_);
  if (std::system(command.c_str()) != 0) throw std::runtime_error("restart failed: " + command);
}

void PgInstance::promote() {
  const std::string command = script() + " promote " + dir_;
  if (std::system(command.c_str()) != 0) throw std::runtime_error("promote failed: " + command);
}

void PgInstance::admin(const std::string& sql) {
  auto conn = PgConn::connect("postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres", {});
  if (!conn) throw std::runtime_error(conn.error().message);
  if (auto r = (*conn)->exec(sql); !r) throw std::runtime_error(r.error().message);
}

std::string PgInstance::new_database() {
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  admin("CREATE DATABASE " + name);
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace tl::testing
