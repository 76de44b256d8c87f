#include "tools/chain_check.hpp"

#include "eventstore/codec.hpp"

namespace tl::admin {

bool ChainChecker::fail(std::uint64_t seq, std::string problem) {
  report_.ok = false;
  report_.bad_seq = seq;
  report_.problem = std::move(problem);
  return false;
}

bool ChainChecker::add(std::string_view raw) {
  if (!report_.ok) return false;
  const std::uint64_t position = report_.records + 1;
  report_.bad_position = position;
  if (raw.empty()) return fail(0, "empty line where a record should be");
  const bool hash_ok = record_hash_matches(raw);
  auto record = decode_record(raw);
  if (!hash_ok) {
    return fail(record ? record->seq : 0, "the record's bytes do not match its hash (it was altered)");
  }
  if (!record) return fail(0, "not a readable event record: " + record.error().message);
  const std::uint64_t seq = record->seq;
  if (report_.records == 0) {
    report_.first_seq = seq;
    if (seq == 1 && record->prev_hash != kGenesisHash) {
      return fail(seq, "the first record's prev_hash is not the genesis value (64 zeros)");
    }
  } else if (seq <= report_.last_seq) {
    return fail(seq,
                "out of order: seq " + std::to_string(seq) + " comes after seq " + std::to_string(report_.last_seq));
  } else if (seq == report_.last_seq + 1) {
    if (record->prev_hash != report_.last_hash) {
      return fail(seq, "prev_hash does not link to the record before (seq " + std::to_string(report_.last_seq) +
                           "): a record was changed, removed or reordered");
    }
    ++report_.links_checked;
  } else {
    if (report_.gaps++ == 0) report_.first_gap_after = report_.last_seq;
  }
  report_.records = position;
  report_.bad_position = 0;
  report_.last_seq = seq;
  report_.last_hash = record->hash;
  report_.last_stream = record->stream;
  report_.last_version = record->version;
  last_ = std::move(record).value();
  return true;
}

}  // namespace tl::admin
