// The server's TLS settings: a certificate chain and its private key, loaded once at start-up.
// Only this header's users in http/ see OpenSSL; the rest of the server holds the context
// through a forward declaration.
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace tl {

// Builds the server's TLS context from PEM files: TLS 1.2 and newer only, forward-secret AEAD
// cipher suites, no compression or renegotiation. Throws std::runtime_error naming the file
// and what is wrong with it (missing, unreadable, not PEM, encrypted key, key not matching the
// certificate); meant for start-up, where the process then exits with that message. Shared, so
// that holders need not see the complete type (the deleter is bound here).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace tl
