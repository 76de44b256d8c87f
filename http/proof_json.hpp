// The JSON of the proof routes (API.md; RFC 9162 §2.1.3 and §2.1.4, hashes in lowercase hex).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "eventstore/event_log.hpp"
#include "eventstore/record.hpp"
#include "eventstore/tree_heads.hpp"
#include "projections/merkle_index.hpp"

namespace tl {

struct App;

// Where an event landed, as the reveal's body and the delete's Tokenledger-Receipt header say.
struct ReceiptRef {
  std::uint64_t seq = 0;
  merkle::Hash leaf_hash{};
};
// The receipt reference of a command's last append (its last event); nullopt when nothing landed
// or the tree cannot answer (the answer then goes without it: the event is recorded all the same).
std::optional<ReceiptRef> receipt_of(const App& app, const std::optional<AppendResult>& landed);

// {"leaf_index", "tree_size", "root_hash", "inclusion_path": [hex…], "leaf_hash"}.
std::string inclusion_proof_json(const InclusionProof& proof);
// {"first", "second", "first_root_hash", "second_root_hash", "consistency_path": [hex…]}.
std::string consistency_proof_json(const ConsistencyProof& proof);
// The receipt of one event: {"seq", "record_hash", "leaf_hash", "event" (as the audit shows it),
// "record" (the stored line, whose SHA-256 is record_hash: when `with_record`),
// "inclusion_proof" (against the tree head), "checkpoint" (the C2SP note), "public_key" (hex)}.
std::string receipt_json(const Record& record, const std::optional<std::string>& description, bool with_record,
                         const InclusionProof& proof, const TreeHead& head, std::string_view public_key_hex);
// The value of the Tokenledger-Receipt header: "seq=N, leaf_hash=HEX".
std::string receipt_header(std::uint64_t seq, const merkle::Hash& leaf_hash);

}  // namespace tl
