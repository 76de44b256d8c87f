#include "eventstore/passwords.hpp"

#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "common/hex.hpp"
#include "eventstore/token_secrets.hpp"

namespace tl {

std::string hash_password(std::string_view password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("out of memory while hashing a password");
  }
  return out;
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
  ensure_sodium();
  const std::string hash(stored_hash);  // needs a terminating NUL
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void burn_password_verification(std::string_view password) {
  static const std::string dummy = hash_password("not a real password, only spends time");
  (void)verify_password(dummy, password);
}

std::string new_ulid(std::string_view prefix) {
  ensure_sodium();
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  unsigned char random[10];
  randombytes_buf(random, sizeof random);
  std::string out(prefix);
  for (int i = 9; i >= 0; --i) out.push_back(kCrockford[(ms >> (i * 5)) & 0x1F]);  // 50 bits, top 2 zero
  std::uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 5; ++i) hi = (hi << 8) | random[i];
  for (int i = 5; i < 10; ++i) lo = (lo << 8) | random[i];
  for (int i = 7; i >= 0; --i) out.push_back(kCrockford[(hi >> (i * 5)) & 0x1F]);
  for (int i = 7; i >= 0; --i) out.push_back(kCrockford[(lo >> (i * 5)) & 0x1F]);
  return out;
}

std::string random_urlsafe(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), buf.data(), buf.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return to_hex(buf.data(), buf.size());
}

std::string random_password() {
  ensure_sodium();
  static constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (int i = 0; i < 20; ++i) out.push_back(kBase62[randombytes_uniform(62)]);
  return out;
}

}  // namespace tl
