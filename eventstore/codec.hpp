// The versioned codec of the event record. A record is stored as one line of canonical
// JSON, the same object the audit API serves:
//   {"schema":1,"seq":…,"at":…,"type":…,"stream":…,"version":…,"actor":{…},"source":{…},
//    "token_id":…,"owner":…,"data":{…},"prev_hash":"<hex>","hash":"<hex>"}
// `hash` = SHA-256 of every byte before `,"hash":`, so it covers the bytes as stored
// (ciphertexts included) and an exported line can be checked without this program.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/record.hpp"

namespace tl {

// Fills record.raw and record.hash from the other fields (record.prev_hash must be set).
void encode_record(Record& record);

// The canonical bytes the hash covers: the record up to and including "prev_hash", without the
// closing brace. encode_record() is this plus `,"hash":"<hex>"}`.
std::string encode_record_body(const Record& record);

// Decodes `record.raw` (as encode_record() wrote it) and encodes the result again: OK only when
// that gives the very same bytes, i.e. the decoder reads back every field as it was given
// (invalid UTF-8, for one, is refused by the decoder). The appender calls this before a record
// enters the log, so a record once appended is readable forever (issue 11). `decoder` is reused.
class RecordDecoder;
Status check_round_trip(const Record& record, RecordDecoder& decoder);

// Appends a stored record to `out` as JSON for readers (the audit API, its stream, a token's
// history): the stored bytes, except that
// - in a record holding bytes that are not UTF-8 (written before strings were checked at the
//   boundary) each such byte is shown as U+FFFD;
// - a TokenCreated's data goes without "code_lookup" and "code_sealed" (issue 12: readers see no
//   ciphertext and no lookup hash of a code);
// - `token_description`, when given, is added as the member "token_description" before "data".
// So the view's `hash` no longer covers the view's bytes: the export (/audit/export, the admin
// tool) keeps the stored bytes, whose hashes check.
void append_record_json(std::string& out, const Record& record,
                        std::optional<std::string_view> token_description = std::nullopt);

// Which fields a decode fills. `fold` is for the projections' fold over records this program
// wrote and chained: it fills seq, at, stream, version, owner, token_id and the event, leaves
// actor, source, the hashes and raw empty, and does not check the JSON of what it skips.
enum class RecordFields { all, fold };

// Parses stored bytes (any known schema, upcast to the current one). Does not check the hash.
// Refuses anything that is not one well-formed JSON object, skipped fields included. Bytes that
// are not UTF-8 inside strings (records written before strings were checked at the boundary)
// are read as U+FFFD; record.raw keeps the stored bytes, so the hash still checks.
Result<Record> decode_record(std::string_view raw);
// The same into `record`, reusing its buffers (for loops over many records). Every field is
// overwritten; on error `record` holds a mix and must not be used.
Status decode_record_into(std::string_view raw, Record& record, RecordFields fields = RecordFields::all);

// A decoder that keeps its parser and buffers, for a loop over many records on one thread.
class RecordDecoder {
 public:
  RecordDecoder();
  ~RecordDecoder();
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;
  Status decode(std::string_view raw, Record& record, RecordFields fields = RecordFields::all);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// True when the hash stored in `raw` is the SHA-256 of the bytes it covers.
bool record_hash_matches(std::string_view raw);

std::string sha256_hex(std::string_view bytes);
// Hex HMAC-SHA-256 of `bytes` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

}  // namespace tl
