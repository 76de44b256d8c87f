// Posts webhook bodies to one http:// URL, signed with HMAC-SHA-256 of the body under a shared
// secret (header X-Tokenledger-Signature: sha256=<hex>), retrying with exponential back-off.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "domain/result.hpp"

namespace tl {

struct WebhookTarget {
  std::string host;
  std::string port;
  std::string target;
  std::string host_header;
};

// Parses an http:// URL; https is not supported by this client.
Result<WebhookTarget> parse_webhook_url(const std::string& url);

class WebhookClient {
 public:
  WebhookClient(WebhookTarget target, std::string secret, int attempts, std::chrono::milliseconds first_backoff)
      : target_(std::move(target)), secret_(std::move(secret)), attempts_(attempts), first_backoff_(first_backoff) {}

  // True once the receiver answered 2xx; false after the last attempt failed.
  bool deliver(const std::string& body, const std::string& delivery_id);

  std::uint64_t attempts_made() const { return attempts_made_.load(); }

 private:
  bool post_once(const std::string& body, const std::string& delivery_id, const std::string& signature);

  WebhookTarget target_;
  std::string secret_;
  int attempts_;
  std::chrono::milliseconds first_backoff_;
  std::atomic<std::uint64_t> attempts_made_{0};
};

}  // namespace tl
