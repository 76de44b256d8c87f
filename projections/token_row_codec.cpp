// Checkpoint rows of the token table (TokenTable::encode / decode).
//
// Start-up loads every live token's row (issue 5, row 5: a million in well under a second), so
// rows are a compact binary form, not JSON:
//
//   u8      format (kBinaryV1)
//   varint  created_seq, version
//   zigzag  timeout_days, created_at, updated_at (ms since the epoch)
//   varint  expiry_notices
//   u8      flags: kHasLastUsed, kPackedId, kPackedLookup
//   zigzag  last_used_at                       (when kHasLastUsed)
//   16 B    id, packed                         (when kPackedId, else a string: varint length + bytes)
//   string  owner, description
//   32 B    lookup hash, raw                   (when kPackedLookup, else a string of its hex)
//   string  last_used_ip
//
// Nothing may follow. Rows written before this format are JSON objects (first byte '{') and are
// still read, so an old checkpoint loads as it is and its rows are rewritten as they change.
#include "projections/token_row_codec.hpp"

#include <simdjson.h>

#include <cstring>
#include <limits>

#include "projections/token_table.hpp"

namespace tl::token_row_codec {
namespace {

constexpr std::uint8_t kBinaryV1 = 1;
constexpr std::uint8_t kHasLastUsed = 1;
constexpr std::uint8_t kPackedLookup = 2;
constexpr std::uint8_t kPackedId = 4;
constexpr std::uint8_t kKnownFlags = kHasLastUsed | kPackedLookup | kPackedId;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_zigzag(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// Reads what a checkpoint holds, which may be damaged: every read is bounds-checked and a
// failure sticks.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

  std::uint8_t byte() {
    if (p_ == end_) return fail<std::uint8_t>();
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = byte();
      if (!ok_) return 0;
      if (shift == 63 && b > 1) return fail<std::uint64_t>();  // more than 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) return v;
    }
    return fail<std::uint64_t>();
  }
  std::int64_t zigzag() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  std::string_view bytes(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return fail<std::string_view>();
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string_view string() {
    const std::uint64_t n = varint();
    return ok_ ? bytes(n) : std::string_view{};
  }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    p_ = end_;
    return T{};
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> read_array(Reader& in) {
  const auto raw = in.bytes(N);
  if (!in.ok()) return std::nullopt;
  std::array<std::uint8_t, N> out;
  std::memcpy(out.data(), raw.data(), N);
  return out;
}

}  // namespace

RowView view_of(const TokenRow& row) {
  const TokenState& s = row.state;
  RowView v;
  v.created_seq = row.created_seq;
  v.version = s.version;
  v.timeout_days = s.timeout_days;
  v.created_ms = s.created_at.time_since_epoch().count();
  v.updated_ms = s.updated_at.time_since_epoch().count();
  v.expiry_notices = s.expiry_notices;
  if (s.last_used_at) v.last_used_ms = s.last_used_at->time_since_epoch().count();
  v.id_packed = pack_id(s.id);
  if (!v.id_packed) v.id_raw = s.id;
  v.owner = s.owner;
  v.description = s.description;
  v.lookup_packed = pack_lookup(s.code_lookup);
  if (!v.lookup_packed) v.lookup_raw = s.code_lookup;
  v.last_used_ip = s.last_used_ip;
  return v;
}

TokenRow to_row(const RowView& v) {
  TokenRow row;
  TokenState& s = row.state;
  row.created_seq = v.created_seq;
  s.version = v.version;
  s.timeout_days = static_cast<int>(v.timeout_days);
  s.created_at = Timestamp{std::chrono::milliseconds{v.created_ms}};
  s.updated_at = Timestamp{std::chrono::milliseconds{v.updated_ms}};
  s.expiry_notices = static_cast<unsigned>(v.expiry_notices);
  if (v.last_used_ms) s.last_used_at = Timestamp{std::chrono::milliseconds{*v.last_used_ms}};
  s.id = v.id_packed ? unpack_id(*v.id_packed) : std::string(v.id_raw);
  s.owner = v.owner;
  s.description = v.description;
  s.code_lookup = v.lookup_packed ? unpack_lookup(*v.lookup_packed) : std::string(v.lookup_raw);
  s.last_used_ip = v.last_used_ip;
  return row;
}

std::string encode(const RowView& v) {
  std::uint8_t flags = 0;
  if (v.last_used_ms) flags |= kHasLastUsed;
  if (v.id_packed) flags |= kPackedId;
  if (v.lookup_packed) flags |= kPackedLookup;
  std::string out;
  out.reserve(96 + v.id_raw.size() + v.owner.size() + v.description.size() + v.lookup_raw.size() +
              v.last_used_ip.size());
  out.push_back(static_cast<char>(kBinaryV1));
  put_varint(out, v.created_seq);
  put_varint(out, v.version);
  put_zigzag(out, v.timeout_days);
  put_zigzag(out, v.created_ms);
  put_zigzag(out, v.updated_ms);
  put_varint(out, v.expiry_notices);
  out.push_back(static_cast<char>(flags));
  if (v.last_used_ms) put_zigzag(out, *v.last_used_ms);
  if (v.id_packed) {
    out.append(reinterpret_cast<const char*>(v.id_packed->data()), v.id_packed->size());
  } else {
    put_string(out, v.id_raw);
  }
  put_string(out, v.owner);
  put_string(out, v.description);
  if (v.lookup_packed) {
    out.append(reinterpret_cast<const char*>(v.lookup_packed->data()), v.lookup_packed->size());
  } else {
    put_string(out, v.lookup_raw);
  }
  put_string(out, v.last_used_ip);
  return out;
}

std::optional<RowView> decode_binary(std::string_view bytes) {
  Reader in(bytes);
  if (in.byte() != kBinaryV1) return std::nullopt;
  RowView v;
  v.created_seq = in.varint();
  v.version = in.varint();
  v.timeout_days = in.zigzag();
  if (v.timeout_days < std::numeric_limits<int>::min() || v.timeout_days > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  v.created_ms = in.zigzag();
  v.updated_ms = in.zigzag();
  v.expiry_notices = in.varint();
  if (v.expiry_notices > std::numeric_limits<unsigned>::max()) return std::nullopt;
  const std::uint8_t flags = in.byte();
  if ((flags & ~kKnownFlags) != 0) return std::nullopt;
  if (flags & kHasLastUsed) v.last_used_ms = in.zigzag();
  if (flags & kPackedId) {
    v.id_packed = read_array<16>(in);
  } else {
    v.id_raw = in.string();
  }
  v.owner = in.string();
  v.description = in.string();
  if (flags & kPackedLookup) {
    v.lookup_packed = read_array<32>(in);
  } else {
    v.lookup_raw = in.string();
  }
  v.last_used_ip = in.string();
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return v;
}

std::optional<TokenRow> decode_json(std::string_view bytes) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  TokenRow row;
  auto& s = row.state;
  std::string_view id, owner, description, lookup;
  std::int64_t timeout = 0, created = 0, updated = 0;
  if (doc["id"].get(id) || doc["owner"].get(owner) || doc["description"].get(description) ||
      doc["timeout_days"].get(timeout) || doc["created_at"].get(created) || doc["updated_at"].get(updated) ||
      doc["code_lookup"].get(lookup) || doc["version"].get(s.version) || doc["created_seq"].get(row.created_seq)) {
    return std::nullopt;
  }
  s.id = id;
  s.owner = owner;
  s.description = description;
  s.timeout_days = static_cast<int>(timeout);
  s.created_at = Timestamp{std::chrono::milliseconds{created}};
  s.updated_at = Timestamp{std::chrono::milliseconds{updated}};
  s.code_lookup = lookup;
  std::uint64_t notices = 0;
  if (!doc["expiry_notices"].get(notices)) s.expiry_notices = static_cast<unsigned>(notices);
  std::int64_t used = 0;
  std::string_view used_ip;
  if (!doc["last_used_at"].get(used) && !doc["last_used_ip"].get(used_ip)) {
    s.last_used_at = Timestamp{std::chrono::milliseconds{used}};
    s.last_used_ip = used_ip;
  }
  return row;
}

}  // namespace tl::token_row_codec

namespace tl {

std::string TokenTable::encode(const TokenRow& row) { return token_row_codec::encode(token_row_codec::view_of(row)); }

std::optional<TokenRow> TokenTable::decode(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  if (bytes.front() == '{') return token_row_codec::decode_json(bytes);
  auto view = token_row_codec::decode_binary(bytes);
  if (!view) return std::nullopt;
  return token_row_codec::to_row(*view);
}

}  // namespace tl
