#include "http/tls.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tl {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites (Mozilla's "intermediate" list): ECDHE key exchange for forward secrecy and
// AEAD ciphers only. TLS 1.3 keeps OpenSSL's defaults, which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The server runs unattended: an encrypted key must fail to load rather than make OpenSSL
// prompt on a terminal.
int no_password(char*, int, int, void*) { return 0; }

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no detail from OpenSSL";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Reads the whole file; the message names the option so the operator knows which flag to fix.
std::string read_pem(const std::string& path, const char* option) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw std::runtime_error(std::string(option) + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(std::string(option) + " " + path + ": not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw std::runtime_error(std::string(option) + " " + path + ": cannot read it (" + std::strerror(errno) + ")");
  }
  std::string text;
  char chunk[4096];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) text.append(chunk, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw std::runtime_error(std::string(option) + " " + path + ": read error");
  return text;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file) {
  const std::string cert_pem = read_pem(cert_file, "--tls-cert");
  std::string key_pem = read_pem(key_file, "--tls-key");
  // The key's bytes do not outlive this function in our memory (OpenSSL keeps its own copy).
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{key_pem};

  // Parsed here first, apart from the context, so that each failure gets its own message.
  ERR_clear_error();
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(memory_bio(cert_pem).get(), nullptr, no_password, nullptr));
  if (!cert) {
    throw std::runtime_error("--tls-cert " + cert_file + ": no PEM certificate in it (" + openssl_error() + ")");
  }
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(memory_bio(key_pem).get(), nullptr, no_password, nullptr));
  if (!key) {
    if (key_pem.find("ENCRYPTED") != std::string::npos) {
      throw std::runtime_error("--tls-key " + key_file +
                               ": the key is encrypted with a passphrase; give an unencrypted key (mode 0600)");
    }
    throw std::runtime_error("--tls-key " + key_file + ": no PEM private key in it (" + openssl_error() + ")");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("--tls-key " + key_file + " does not belong to the certificate in --tls-cert " +
                             cert_file);
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    spdlog::warn("the TLS certificate in {} has expired: clients will refuse it", cert_file);
  }
  struct stat st {};
  // A private key others may read is refused as ssh refuses one (issue 12): a warning in a log
  // nobody reads leaves the key exposed.
  if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    throw std::runtime_error("--tls-key " + key_file +
                             ": group or others may access it; make it readable by the owner only (chmod 600)");
  }

  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(native, no_password);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    throw std::runtime_error("TLS: the cipher list is not supported by this OpenSSL (" + openssl_error() + ")");
  }
  // Loaded from the bytes read above, not the files again: what was checked is what is used.
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) throw std::runtime_error("--tls-cert " + cert_file + ": " + ec.message());
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) throw std::runtime_error("--tls-key " + key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("--tls-key " + key_file + " does not belong to the certificate in --tls-cert " +
                             cert_file);
  }
  return ctx;
}

}  // namespace tl
