// The checkpoint row of one token (format in token_row_codec.cpp), as a view: start-up decodes
// straight into the table's packed slots, and checkpoints encode straight from them, without a
// TokenRow (and its five heap strings) in between.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "projections/token_keys.hpp"

namespace tl {

struct TokenRow;

namespace token_row_codec {

// Points into the bytes (or the row) it was made from.
struct RowView {
  std::uint64_t created_seq = 0;
  std::uint64_t version = 0;
  std::int64_t timeout_days = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint64_t expiry_notices = 0;
  std::optional<std::int64_t> last_used_ms;
  std::optional<PackedId> id_packed;  // else id_raw
  std::string_view id_raw;
  std::string_view owner;
  std::string_view description;
  std::optional<PackedLookup> lookup_packed;  // else lookup_raw
  std::string_view lookup_raw;
  std::string_view last_used_ip;
};

// The view of a row; ids and lookup hashes of the service's form are packed.
RowView view_of(const TokenRow& row);
TokenRow to_row(const RowView& view);

std::string encode(const RowView& view);
// The binary form only (nullopt for anything else, JSON rows included).
std::optional<RowView> decode_binary(std::string_view bytes);
// The JSON rows of checkpoints written before the binary form.
std::optional<TokenRow> decode_json(std::string_view bytes);

}  // namespace token_row_codec
}  // namespace tl
