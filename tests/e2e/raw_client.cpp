#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int connect_raw(unsigned short port, const char* source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (source != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_until_closed(int fd, std::chrono::milliseconds limit, bool* closed) {
  const auto deadline = Clock::now() + limit;
  std::string got;
  if (closed) *closed = false;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left_until(deadline).count(), 1))) <= 0) continue;
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

RawClient::RawClient(unsigned short port, const char* source) : fd_(connect_raw(port, source)) {
  if (fd_ < 0)
    throw std::runtime_error(std::string("cannot connect to port ") + std::to_string(port) +
                             (source ? std::string(" from ") + source : std::string()));
}

RawClient::~RawClient() { ::close(fd_); }

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string RawClient::read_some(std::chrono::milliseconds limit, bool* closed) {
  pollfd p{fd_, POLLIN, 0};
  if (closed) *closed = false;
  if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return {};
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (closed) *closed = true;
    return {};
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string RawClient::response(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (const auto end = got_.find("\r\n\r\n"); end != std::string::npos) {
      std::size_t length = 0;
      if (const auto at = lower(got_.substr(0, end)).find("content-length: "); at != std::string::npos) {
        length = std::stoul(got_.substr(at + 16));
      }
      if (got_.size() >= end + 4 + length) {
        std::string one = got_.substr(0, end + 4 + length);
        got_.erase(0, one.size());
        return one;
      }
    }
    bool closed = false;
    got_ += read_some(left_until(deadline), &closed);
    if (closed) break;
  }
  return std::exchange(got_, {});
}

bool RawClient::closed_by_peer(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    bool closed = false;
    read_some(left_until(deadline), &closed);
    if (closed) return true;
  }
  return false;
}

std::string RawClient::read_until_closed(std::chrono::milliseconds limit, bool& closed) {
  return e2e::read_until_closed(fd_, limit, &closed);
}

}  // namespace e2e
