// Token codes and the keys that protect them (DESIGN.md, Secrets).
//
// A code is "tlk_" + 32 base62 characters from the CSPRNG (190 bits) + a 6-character base62
// CRC32 of everything before it, so scanners recognise leaked codes and typos are refused
// without a lookup. The log keeps only a keyed hash of the code (HMAC-SHA-256, for lookup)
// and the code sealed with a per-token data key (XChaCha20-Poly1305); the data key is stored
// wrapped by a key derived from the master key, which lives outside the database. Deleting
// the wrapped data key makes the sealed code unrecoverable.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace tl {

inline constexpr std::string_view kCodePrefix = "tlk_";
inline constexpr std::size_t kCodeRandomChars = 32;
inline constexpr std::size_t kCodeChecksumChars = 6;
inline constexpr std::size_t kCodeLength = 4 + kCodeRandomChars + kCodeChecksumChars;

// Calls sodium_init() once; throws at start-up if libsodium cannot be used.
void ensure_sodium();

// Reads a 32-byte key stored as hex in `path`, or creates it (mode 0600) when missing.
Result<std::array<unsigned char, 32>> load_or_create_key_file(const std::string& path);

// Reads a secret (one line of text) from `path`, or creates a random one (mode 0600).
Result<std::string> load_or_create_secret_file(const std::string& path);

// True when `code` has the prefix, length, alphabet and a matching checksum.
bool code_well_formed(std::string_view code) noexcept;

struct SealedCode {
  std::string code_sealed;       // hex(nonce || ciphertext), goes into TokenCreated
  std::string wrapped_data_key;  // hex(nonce || wrapped key), goes into the keys store
};

class TokenSecrets {
 public:
  explicit TokenSecrets(const std::array<unsigned char, 32>& master_key);
  ~TokenSecrets();
  TokenSecrets(const TokenSecrets&) = delete;
  TokenSecrets& operator=(const TokenSecrets&) = delete;

  std::string generate_code() const;
  // The master key's check value: 16 bytes derived from it one way (libsodium's KDF, its own
  // subkey id), hex. Equal values mean the same master key; it reveals nothing of the key.
  std::string key_check_value() const { return key_check_; }
  // Hex HMAC-SHA-256 of the code under the lookup key.
  std::string lookup_hash(std::string_view code) const;
  // Hex HMAC-SHA-256 of a sign-in name that is no account, under its own key derived from the
  // master key: the same typed name always gives the same value (failed attempts can be counted
  // together), but the text cannot be read back or guessed without the key (issue 18:
  // UserSignInFailed never records the text; people type passwords into that field).
  std::string name_hash(std::string_view typed_name) const;
  SealedCode seal(std::string_view token_id, std::string_view code) const;
  // nullopt when the data key was destroyed or anything does not authenticate.
  std::optional<std::string> unseal(std::string_view token_id, std::string_view code_sealed,
                                    std::string_view wrapped_data_key) const;

 private:
  unsigned char lookup_key_[32];
  unsigned char wrap_key_[32];
  unsigned char name_key_[32];
  std::string key_check_;
};

}  // namespace tl
