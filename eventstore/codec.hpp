// The versioned codec of the event record. A record is stored as one line of canonical
// JSON, the same object the audit API serves:
//   {"schema":1,"seq":…,"at":…,"type":…,"stream":…,"version":…,"actor":{…},"source":{…},
//    "token_id":…,"owner":…,"data":{…},"prev_hash":"<hex>","hash":"<hex>"}
// `hash` = SHA-256 of every byte before `,"hash":`, so it covers the bytes as stored
// (ciphertexts included) and an exported line can be checked without this program.
#pragma once

#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/record.hpp"

namespace tl {

// Fills record.raw and record.hash from the other fields (record.prev_hash must be set).
void encode_record(Record& record);

// Parses stored bytes (any known schema, upcast to the current one). Does not check the hash.
Result<Record> decode_record(std::string_view raw);

// True when the hash stored in `raw` is the SHA-256 of the bytes it covers.
bool record_hash_matches(std::string_view raw);

std::string sha256_hex(std::string_view bytes);
// Hex HMAC-SHA-256 of `bytes` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

}  // namespace tl
