// A raw loopback connection to the test server, for bytes no well-behaved client would send and
// for answers read byte for byte (the e2e tests' one socket client besides HttpClient).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace e2e {

// A socket connected to 127.0.0.1:`port`, bound first to `source` when given (another loopback
// address, e.g. 127.0.0.2, is another client address to the server); -1 when it cannot connect.
// The caller closes it.
int connect_raw(unsigned short port, const char* source = nullptr);

// What arrives on `fd` until the peer closes (or resets) the connection or `limit` passes;
// `closed` (when given) tells which.
std::string read_until_closed(int fd, std::chrono::milliseconds limit, bool* closed = nullptr);

class RawClient {
 public:
  // Connects like connect_raw; throws std::runtime_error when it cannot.
  explicit RawClient(unsigned short port, const char* source = nullptr);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends every byte; false when the connection broke first.
  bool send(std::string_view bytes);
  // One read of at most `limit`: what arrived ("" when nothing did). `closed` (when given) tells
  // whether the peer closed (or reset) the connection.
  std::string read_some(std::chrono::milliseconds limit, bool* closed = nullptr);
  // One whole response (head and Content-Length body) within `limit`; on timeout or close, what
  // arrived.
  std::string response(std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  // Whether the server closes the connection within `limit` (what it sends meanwhile is dropped).
  bool closed_by_peer(std::chrono::milliseconds limit);
  // Everything until the server closes the connection or `limit` passes (then `closed` is false).
  std::string read_until_closed(std::chrono::milliseconds limit, bool& closed);

 private:
  int fd_ = -1;
  std::string got_;  // read past the last response()
};

}  // namespace e2e
