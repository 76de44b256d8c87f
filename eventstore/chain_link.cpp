#include "eventstore/chain_link.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/signed_checkpoints.hpp"

namespace tl {

CheckedRecord check_record_bytes(std::string_view raw) {
  const bool hash_ok = record_hash_matches(raw);
  auto record = decode_record(raw);
  CheckedRecord out;
  if (record) out.seq = record->seq;
  if (!hash_ok) {
    out.problem = "the record's bytes do not match its hash (it was altered)";
  } else if (!record) {
    out.problem = "not a readable event record: " + record.error().message;
  } else {
    out.record = std::move(record).value();
  }
  return out;
}

std::string ChainLink::problem(const Record& next) const {
  if (next.seq <= seq) {
    return "out of order: seq " + std::to_string(next.seq) + " comes after seq " + std::to_string(seq);
  }
  if (next.seq != seq + 1 || next.prev_hash == hash) return {};
  if (seq == 0) return "the first record's prev_hash is not the genesis value (64 zeros)";
  return "prev_hash does not link to the record before (seq " + std::to_string(seq) +
         "): a record was changed, removed or reordered";
}

std::string first_record_problem(const Record& first) {
  return first.seq == 1 ? ChainLink{}.problem(first) : std::string();
}

bool checkpoint_signature_trusted(const SignedCheckpoint& c, std::string_view trusted_key_hex) {
  return checkpoint_signature_valid(c, trusted_key_hex.empty() ? std::string_view(c.public_key) : trusted_key_hex);
}

std::string checkpoint_prev_after(const SignedCheckpoint* before) {
  return before == nullptr ? kGenesisHash : sha256_hex(before->raw);
}

}  // namespace tl
