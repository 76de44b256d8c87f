#include "projections/token_keys.hpp"

#include <cstring>

namespace tl {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr char kHexDigits[] = "0123456789abcdef";

// -1 for characters outside the alphabet. Only the uppercase forms new_ulid() writes count:
// another spelling is another id, so it must stay raw to compare unequal.
constexpr std::array<std::int8_t, 256> make_table(const char* alphabet, int size) {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < size; ++i) table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kBase32Value = make_table(kCrockford, 32);
constexpr auto kHexValue = make_table(kHexDigits, 16);

void put_varint(char*& out, std::size_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
}

std::size_t varint_size(std::size_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Only reads what PackedText itself wrote, so no bounds to check.
std::size_t get_varint(const char*& in) {
  std::size_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*in++);
    v |= static_cast<std::size_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return v;
  }
}

}  // namespace

std::optional<PackedId> pack_id(std::string_view id) noexcept {
  if (id.size() != kTokenIdPrefix.size() + kUlidChars || !id.starts_with(kTokenIdPrefix)) return std::nullopt;
  // 26 x 5 = 130 bits; the first character must leave the top 2 bits zero to fit 128.
  std::uint64_t hi = 0, lo = 0;
  for (std::size_t i = kTokenIdPrefix.size(); i < id.size(); ++i) {
    const int v = kBase32Value[static_cast<unsigned char>(id[i])];
    if (v < 0) return std::nullopt;
    if (i == kTokenIdPrefix.size() && v > 3) return std::nullopt;
    hi = (hi << 5) | (lo >> 59);
    lo = (lo << 5) | static_cast<std::uint64_t>(v);
  }
  PackedId out;
  // Big-endian, so packed ids sort like their strings.
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    out[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  return out;
}

std::string unpack_id(const PackedId& packed) {
  std::uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | packed[i];
    lo = (lo << 8) | packed[8 + i];
  }
  std::string out(kTokenIdPrefix.size() + kUlidChars, '\0');
  std::memcpy(out.data(), kTokenIdPrefix.data(), kTokenIdPrefix.size());
  for (std::size_t i = out.size(); i-- > kTokenIdPrefix.size();) {
    out[i] = kCrockford[lo & 0x1F];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

std::optional<PackedLookup> pack_lookup(std::string_view hex) noexcept {
  PackedLookup out;
  if (hex.size() != 2 * out.size()) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = kHexValue[static_cast<unsigned char>(hex[2 * i])];
    const int low = kHexValue[static_cast<unsigned char>(hex[2 * i + 1])];
    if ((high | low) < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return out;
}

std::string unpack_lookup(const PackedLookup& packed) {
  // Two digits per byte from one table: every row handed out spells its lookup hash.
  static constexpr auto kPairs = [] {
    std::array<char, 512> pairs{};
    for (std::size_t b = 0; b < 256; ++b) {
      pairs[2 * b] = kHexDigits[b >> 4];
      pairs[2 * b + 1] = kHexDigits[b & 0x0F];
    }
    return pairs;
  }();
  std::string out(2 * packed.size(), '\0');
  for (std::size_t i = 0; i < packed.size(); ++i) std::memcpy(&out[2 * i], &kPairs[2 * packed[i]], 2);
  return out;
}

PackedText::PackedText(const Parts& parts) {
  std::size_t size = 0;
  for (auto p : parts) size += varint_size(p.size()) + p.size();
  if (size == kParts) return;  // all empty
  data_ = std::make_unique_for_overwrite<char[]>(size);
  char* out = data_.get();
  for (auto p : parts) put_varint(out, p.size());
  for (auto p : parts) {
    if (!p.empty()) std::memcpy(out, p.data(), p.size());
    out += p.size();
  }
}

PackedText::Parts PackedText::parts() const noexcept {
  Parts parts{};
  if (!data_) return parts;
  const char* in = data_.get();
  std::array<std::size_t, kParts> sizes{};
  for (auto& s : sizes) s = get_varint(in);
  for (std::size_t i = 0; i < kParts; ++i) {
    parts[i] = {in, sizes[i]};
    in += sizes[i];
  }
  return parts;
}

PackedText PackedText::with(std::size_t i, std::string_view value) const {
  Parts p = parts();
  p[i] = value;
  return PackedText(p);  // built before this one is released, so `value` may point into it
}

}  // namespace tl
