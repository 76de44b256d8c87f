// A tiny synchronous HTTP/1.1 client for the end-to-end tests (Boost.Beast over loopback TCP,
// or TLS, one keep-alive connection, a cookie jar) and a minimal JSON reader to check response bodies.
// Beast is included only by http_client.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2e {

// A parsed JSON value. Accessors throw std::runtime_error on a kind mismatch, so a wrong type
// in a response fails the test with a message instead of passing silently.
class Json {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  static Json parse(std::string_view text);  // throws std::runtime_error on malformed JSON

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_number() const { return kind_ == Kind::number; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  bool has(std::string_view key) const;
  // A missing key (or a non-object) gives a null value, so chains like j["a"]["b"] are safe.
  const Json& operator[](std::string_view key) const;
  const Json& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
  const Json& operator[](std::size_t index) const;  // throws when out of range
  const Json& operator[](int index) const { return (*this)[static_cast<std::size_t>(index)]; }
  std::size_t size() const;  // items of an array or members of an object
  const std::vector<Json>& items() const;
  const std::vector<std::string>& keys() const;

  const std::string& str() const;
  double num() const;
  std::int64_t integer() const;  // throws unless the number is whole
  bool boolean() const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<std::string> keys_;  // object member names, in order (parallel to items_)
  std::vector<Json> items_;        // array items, or object member values
};

struct Response {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(std::string_view name) const;  // first value, or ""
  std::vector<std::string> header_values(std::string_view name) const;
  Json json() const { return Json::parse(body); }
  // The error code of a JSON error body ({"error": {"code": ...}}), or "" when there is none.
  std::string error_code() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// HTTPS instead of HTTP: the server's certificate must chain to `ca_file` and name 127.0.0.1.
struct TlsClientOptions {
  enum class Versions { any, only_tls12, only_tls11 };
  std::string ca_file;  // empty: plain HTTP
  // only_tls12 checks the server's TLS 1.2 cipher suites; only_tls11 (the client's own security
  // level lowered so that it offers it) checks that the server refuses TLS 1.1.
  Versions versions = Versions::any;
  bool enabled() const { return !ca_file.empty(); }
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port, std::chrono::seconds timeout = std::chrono::seconds(20),
                      TlsClientOptions tls = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request and reads its response. With a body and no Content-Type in `headers`,
  // sends Content-Type: application/json; a header given with an empty value is left out.
  // Throws std::runtime_error on a network error or timeout.
  Response request(std::string_view method, std::string_view target, std::string_view body = {},
                   const Headers& headers = {});
  Response get(std::string_view target, const Headers& headers = {}) { return request("GET", target, {}, headers); }
  Response post(std::string_view target, std::string_view body = {}, const Headers& headers = {}) {
    return request("POST", target, body, headers);
  }
  Response patch(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return request("PATCH", target, body, headers);
  }
  Response del(std::string_view target, const Headers& headers = {}) { return request("DELETE", target, {}, headers); }

  // Writes `raw` bytes in one send on a fresh connection and reads `count` responses in order.
  std::vector<Response> raw_exchange(std::string_view raw, std::size_t count);

  void set_user_agent(std::string agent) { user_agent_ = std::move(agent); }
  std::string cookie(const std::string& name) const;
  void clear_cookies() { cookies_.clear(); }
  void set_cookie(const std::string& name, const std::string& value) { cookies_[name] = value; }
  unsigned short port() const { return port_; }
  void close();

 private:
  struct Connection;
  unsigned short port_;
  std::chrono::seconds timeout_;
  TlsClientOptions tls_;
  std::string user_agent_ = "tokenledger-e2e";
  std::map<std::string, std::string> cookies_;
  std::unique_ptr<Connection> conn_;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace e2e
