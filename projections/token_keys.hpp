// Compact forms of what the token table keeps for a million tokens (issue 5, row 6).
//
// Ids and lookup hashes have a fixed form when the service makes them: "tok_" + a 26-character
// ULID (130 bits, the top 2 always zero) and 64 lowercase hex digits of HMAC-SHA-256. Those pack
// into 16 and 32 bytes. Anything else (ids in tests, hand-made logs) is kept as the raw string,
// so every id and every lookup hash stays representable exactly.
//
// PackedText holds a row's variable-length strings in one heap block: one allocation and one
// pointer per row instead of a 32-byte std::string (plus its own allocation) per field.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

using PackedId = std::array<std::uint8_t, 16>;
using PackedLookup = std::array<std::uint8_t, 32>;

inline constexpr std::string_view kTokenIdPrefix = "tok_";
inline constexpr std::size_t kUlidChars = 26;

// nullopt unless `id` is exactly "tok_" + 26 uppercase Crockford base32 characters that fit in
// 128 bits; then unpack_id(*pack_id(id)) == id.
std::optional<PackedId> pack_id(std::string_view id) noexcept;
std::string unpack_id(const PackedId& packed);

// nullopt unless `hex` is exactly 64 lowercase hex digits; then unpack_lookup(*pack) == hex.
std::optional<PackedLookup> pack_lookup(std::string_view hex) noexcept;
std::string unpack_lookup(const PackedLookup& packed);

// Up to four strings in one allocation: [varint length] x 4, then the bytes. Empty when all are
// empty (no allocation).
class PackedText {
 public:
  static constexpr std::size_t kParts = 4;
  using Parts = std::array<std::string_view, kParts>;

  PackedText() = default;
  explicit PackedText(const Parts& parts);

  Parts parts() const noexcept;
  std::string_view part(std::size_t i) const noexcept { return parts()[i]; }
  // A copy with part `i` replaced.
  PackedText with(std::size_t i, std::string_view value) const;

 private:
  std::unique_ptr<char[]> data_;
};

}  // namespace tl
