#include "http/proof_json.hpp"

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "eventstore/record_json.hpp"
#include "http/app.hpp"

namespace tl {
namespace {

std::string hex_of(const merkle::Hash& h) { return to_hex(h.data(), h.size()); }

void write_inclusion(JsonWriter& w, const InclusionProof& proof) {
  w.begin_object()
      .key("leaf_index")
      .value(proof.leaf_index)
      .key("tree_size")
      .value(proof.tree_size)
      .key("root_hash")
      .value(hex_of(proof.root_hash))
      .key("inclusion_path")
      .begin_array();
  for (const auto& h : proof.path) w.value(hex_of(h));
  w.end_array().key("leaf_hash").value(hex_of(proof.leaf_hash)).end_object();
}

}  // namespace

std::string inclusion_proof_json(const InclusionProof& proof) {
  JsonWriter w;
  write_inclusion(w, proof);
  return std::move(w).str();
}

std::string consistency_proof_json(const ConsistencyProof& proof) {
  JsonWriter w;
  w.begin_object()
      .key("first")
      .value(proof.first)
      .key("second")
      .value(proof.second)
      .key("first_root_hash")
      .value(hex_of(proof.first_root))
      .key("second_root_hash")
      .value(hex_of(proof.second_root))
      .key("consistency_path")
      .begin_array();
  for (const auto& h : proof.path) w.value(hex_of(h));
  return std::move(w.end_array().end_object()).str();
}

std::string receipt_json(const Record& record, const std::optional<std::string>& description, bool with_record,
                         const InclusionProof& proof, const TreeHead& head, std::string_view public_key_hex) {
  std::string event;
  append_record_json(event, record, description);
  JsonWriter w;
  w.begin_object()
      .key("seq")
      .value(record.seq)
      .key("record_hash")
      .value(record.hash)
      .key("leaf_hash")
      .value(hex_of(proof.leaf_hash))
      .key("event")
      .raw(event);
  if (with_record) w.key("record").value(record.raw);
  w.key("inclusion_proof");
  write_inclusion(w, proof);
  w.key("checkpoint").value(head.note).key("public_key").value(public_key_hex);
  return std::move(w.end_object()).str();
}

std::optional<ReceiptRef> receipt_of(const App& app, const std::optional<AppendResult>& landed) {
  if (!landed || landed->last_seq == 0 || app.merkle == nullptr) return std::nullopt;
  auto leaf = app.merkle->leaf_hash(landed->last_seq);
  if (!leaf) return std::nullopt;
  return ReceiptRef{landed->last_seq, *leaf};
}

std::string receipt_header(std::uint64_t seq, const merkle::Hash& leaf_hash) {
  return "seq=" + std::to_string(seq) + ", leaf_hash=" + hex_of(leaf_hash);
}

}  // namespace tl
