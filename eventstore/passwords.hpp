// Argon2id password hashes (libsodium's crypto_pwhash_str), and the random identifiers the
// service hands out.
#pragma once

#include <string>
#include <string_view>

namespace tl {

// Slow on purpose (~64 MiB, tens of milliseconds): never call on an I/O thread.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view stored_hash, std::string_view password);
// Spends the same time as a verification, for unknown users, so that timing does not tell
// which user names exist.
void burn_password_verification(std::string_view password);

// A sortable unique id: prefix + ULID (48-bit milliseconds + 80 random bits, Crockford base32).
std::string new_ulid(std::string_view prefix);
// `bytes` random bytes as URL-safe base64 without padding.
std::string random_urlsafe(std::size_t bytes);
// `bytes` random bytes as lowercase hex.
std::string random_hex(std::size_t bytes);
// A password that a person can copy: 20 base62 characters (119 bits).
std::string random_password();

}  // namespace tl
