// The Beast HTTP server: an accept loop and one coroutine per connection, over plain TCP or,
// when given a certificate, over TLS (one session body serves both). Handlers that touch the
// disk run on the worker pool, so I/O threads never wait on an fsync.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/app.hpp"
#include "http/net.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tl {

struct Call;
struct Streamed;
namespace server_detail {
struct Answered;
}

// Limits on connections, against clients that open many or send slowly (slowloris).
struct ConnectionLimits {
  std::size_t max_connections = 1024;  // beyond it a new connection gets a 503 and is closed
  // Once more than half of max_connections are open, one client address may hold at most this
  // many (a new one beyond gets a 503 and is closed); 0: a quarter of max_connections.
  std::size_t max_per_address = 0;
  std::chrono::seconds head_timeout{10};  // a request's head must arrive within this
  std::chrono::seconds idle_timeout{30};  // a kept-alive connection may wait this long for a request
};

class Server {
 public:
  Server(App& app, net::asio::io_context& io, net::asio::thread_pool& workers);

  // Serves HTTPS only (before start()), with a context from make_tls_context (http/tls.hpp).
  void use_tls(std::shared_ptr<net::asio::ssl::context> context) { tls_ = std::move(context); }
  bool tls() const { return tls_ != nullptr; }

  // Binds and listens; port 0 picks a free port. Throws on failure (start-up only).
  net::tcp::endpoint listen(const std::string& address, unsigned short port);
  void set_limits(const ConnectionLimits& limits) { limits_ = limits; }  // before start()
  // This listener (--metrics-listen) answers only GET /metrics, without the metrics secret, and
  // /healthz; anything else is 404 (before start()).
  void serve_metrics_only() { metrics_only_ = true; }
  void start();
  // Stops accepting, lets in-flight requests finish (at most `grace`), then stops the I/O loop.
  void stop(std::chrono::seconds grace = std::chrono::seconds{10});

 private:
  net::asio::awaitable<void> accept_loop();
  // Sets the connection up (the TLS handshake when enabled), then runs session() on it.
  net::asio::awaitable<void> serve(net::tcp::socket socket);
  // Detects TLS, refuses plain HTTP, shakes hands, then runs session() (server_tls.cpp). `ip`
  // by value: the coroutine outlives its caller's frame.
  net::asio::awaitable<void> serve_tls(net::beast::tcp_stream stream, const std::string ip);
  // The request loop; Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
  // Defined in server_session.hpp, instantiated in server_plain.cpp and server_tls.cpp only.
  template <class Stream>
  net::asio::awaitable<void> session(Stream& stream, net::beast::flat_buffer buffer, const std::string& ip);
  template <class Stream>
  net::asio::awaitable<std::optional<net::Request>> read_request(Stream& stream, net::beast::flat_buffer& buffer,
                                                                 bool first_request, const std::string& ip);
  template <class Stream>
  net::asio::awaitable<bool> respond(Stream& stream, const net::Request& req, server_detail::Answered& answered);
  template <class Stream>
  net::asio::awaitable<bool> write_stream(Stream& stream, Streamed& streamed, const Call& call);
  net::asio::awaitable<void> drain_then_stop(std::chrono::seconds grace);
  // Counts a new connection from `address`, or says why it is refused (nullptr: admitted).
  const char* admit(const net::asio::ip::address& address);
  void release(const net::asio::ip::address& address);
  void finish(net::Response& res, const Call& call, bool keep_alive) const;

  App& app_;
  net::asio::io_context& io_;
  net::asio::thread_pool& workers_;
  net::tcp::acceptor acceptor_;
  ConnectionLimits limits_;
  std::shared_ptr<net::asio::ssl::context> tls_;  // null: plain HTTP
  std::atomic<int> in_flight_{0};
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> stopping_{false};
  bool metrics_only_ = false;
  std::mutex per_address_mutex_;
  std::map<net::asio::ip::address, std::size_t> per_address_;  // open connections by client address
};

}  // namespace tl
