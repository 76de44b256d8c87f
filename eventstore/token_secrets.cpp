#include "eventstore/token_secrets.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "common/hex.hpp"
#include "eventstore/codec.hpp"

namespace tl {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'t', 'o', 'k', 'e', 'n', 'l', 'd', 'g'};
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string checksum_chars(std::string_view body) {
  auto crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  std::string out(kCodeChecksumChars, '0');
  for (std::size_t i = kCodeChecksumChars; i-- > 0; crc /= 62) out[i] = kBase62[crc % 62];
  return out;
}

// hex(nonce || AEAD(plain, ad)) under `key`.
std::string seal_with(const unsigned char* key, std::string_view ad, const unsigned char* plain, std::size_t size) {
  std::vector<unsigned char> out(kNonce + size + kTag);
  randombytes_buf(out.data(), kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonce, &written, plain, size,
                                             reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
                                             out.data(), key);
  return to_hex(out.data(), kNonce + written);
}

std::optional<std::vector<unsigned char>> open_with(const unsigned char* key, std::string_view ad,
                                                    std::string_view sealed_hex) {
  auto sealed = from_hex(sealed_hex);
  if (!sealed || sealed->size() < kNonce + kTag) return std::nullopt;
  std::vector<unsigned char> plain(sealed->size() - kNonce - kTag);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &written, nullptr, sealed->data() + kNonce, sealed->size() - kNonce,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), sealed->data(), key) != 0) {
    return std::nullopt;
  }
  plain.resize(written);
  return plain;
}

}  // namespace

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  });
}

Result<std::array<unsigned char, 32>> load_or_create_key_file(const std::string& path) {
  ensure_sodium();
  std::array<unsigned char, 32> key{};
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    auto bin = from_hex(hex);
    if (!bin || bin->size() != key.size()) {
      return Error::internal("the key file " + path + " does not hold 64 hex digits");
    }
    std::copy(bin->begin(), bin->end(), key.begin());
    sodium_memzero(bin->data(), bin->size());
    return key;
  }
  randombytes_buf(key.data(), key.size());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Error::internal("cannot create the key file " + path + ": " + std::strerror(errno));
  const std::string line = to_hex(key.data(), key.size()) + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Error::internal("cannot write the key file " + path);
  return key;
}

Result<std::string> load_or_create_secret_file(const std::string& path) {
  ensure_sodium();
  std::ifstream in(path);
  if (in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() < 16) return Error::internal("the secret in " + path + " is shorter than 16 characters");
    return secret;
  }
  unsigned char random[32];
  randombytes_buf(random, sizeof random);
  std::string secret = to_hex(random, sizeof random);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Error::internal("cannot create the secret file " + path + ": " + std::strerror(errno));
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Error::internal("cannot write the secret file " + path);
  return secret;
}

bool code_well_formed(std::string_view code) noexcept {
  if (code.size() != kCodeLength || code.substr(0, kCodePrefix.size()) != kCodePrefix) return false;
  for (char c : code.substr(kCodePrefix.size())) {
    if (kBase62.find(c) == std::string_view::npos) return false;
  }
  const auto body = code.substr(0, kCodeLength - kCodeChecksumChars);
  return checksum_chars(body) == code.substr(body.size());
}

TokenSecrets::TokenSecrets(const std::array<unsigned char, 32>& master_key) {
  ensure_sodium();
  crypto_kdf_derive_from_key(lookup_key_, sizeof lookup_key_, 1, kKdfContext, master_key.data());
  crypto_kdf_derive_from_key(wrap_key_, sizeof wrap_key_, 2, kKdfContext, master_key.data());
  crypto_kdf_derive_from_key(name_key_, sizeof name_key_, 4, kKdfContext, master_key.data());
  unsigned char check[16];
  crypto_kdf_derive_from_key(check, sizeof check, 3, kKdfContext, master_key.data());
  key_check_ = to_hex(check, sizeof check);
}

TokenSecrets::~TokenSecrets() {
  sodium_memzero(lookup_key_, sizeof lookup_key_);
  sodium_memzero(wrap_key_, sizeof wrap_key_);
  sodium_memzero(name_key_, sizeof name_key_);
}

std::string TokenSecrets::generate_code() const {
  std::string code(kCodePrefix);
  for (std::size_t i = 0; i < kCodeRandomChars; ++i) code.push_back(kBase62[randombytes_uniform(62)]);
  code += checksum_chars(code);
  return code;
}

std::string TokenSecrets::lookup_hash(std::string_view code) const {
  return hmac_sha256_hex({reinterpret_cast<const char*>(lookup_key_), sizeof lookup_key_}, code);
}

std::string TokenSecrets::name_hash(std::string_view typed_name) const {
  return hmac_sha256_hex({reinterpret_cast<const char*>(name_key_), sizeof name_key_}, typed_name);
}

SealedCode TokenSecrets::seal(std::string_view token_id, std::string_view code) const {
  unsigned char data_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(data_key);
  SealedCode sealed{seal_with(data_key, token_id, reinterpret_cast<const unsigned char*>(code.data()), code.size()),
                    seal_with(wrap_key_, token_id, data_key, sizeof data_key)};
  sodium_memzero(data_key, sizeof data_key);
  return sealed;
}

std::optional<std::string> TokenSecrets::unseal(std::string_view token_id, std::string_view code_sealed,
                                                std::string_view wrapped_data_key) const {
  auto data_key = open_with(wrap_key_, token_id, wrapped_data_key);
  if (!data_key || data_key->size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return std::nullopt;
  auto code = open_with(data_key->data(), token_id, code_sealed);
  sodium_memzero(data_key->data(), data_key->size());
  if (!code) return std::nullopt;
  return std::string(code->begin(), code->end());
}

}  // namespace tl
