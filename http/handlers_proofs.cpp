// Proofs over the log's RFC 9162 Merkle tree (issue 18, item 4): inclusion and consistency proofs,
// and receipts (one event, its inclusion proof and the newest signed tree head covering it) that
// anyone holding the signing key's public half can check offline (tokenledger-admin proof verify).
// Auditors may ask about any event; a token's owner about the events of her own tokens.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "eventstore/record_json.hpp"
#include "eventstore/tree_heads.hpp"
#include "http/audit_params.hpp"
#include "http/json_requests.hpp"
#include "http/proof_json.hpp"
#include "http/responses.hpp"

namespace tl {
using net::http::status;

namespace {

// A backstop: each auditor holds one line per tree head already.
constexpr std::size_t kMaxCosignatures = 64;
// How far ahead of this server's clock a cosignature's timestamp may be (c2sp.org/tlog-cosignature
// lets verifiers refuse future ones).
constexpr std::uint64_t kCosignatureClockSkewSeconds = 600;

// The seq of a query parameter or path segment that must name an event of the log: 1 to the head.
Result<std::uint64_t> event_seq(const std::string& text, std::string_view name, std::uint64_t head) {
  auto seq = parse_seq(text, name);
  if (!seq) return seq;
  if (*seq == 0) return Error::invalid_field(std::string(name) + ": must be at least 1.");
  if (*seq > head) {
    return Error::invalid_field(std::string(name) + ": the log holds " + std::to_string(head) + " events.");
  }
  return seq;
}

// The record at `seq` when the caller may see proofs about it: any for auditors, else only an
// event of a token she owns. Another's event answers as an unknown one would (404): no oracle.
Result<Record> readable_event(App& app, const Call& call, std::uint64_t seq) {
  auto record = app.store.read(seq);
  if (!record) return std::move(record).error();
  if (!*record) return Error::not_found("No event has seq " + std::to_string(seq) + ".");
  if (call.user->in_group(kGroupAuditors)) return std::move(**record);
  // Her tokens' events: owned by her name and after she was made (an earlier user of the same
  // name's tokens, and their deletion with her, came before; as for the token routes).
  if ((*record)->owner.empty() || (*record)->owner != call.user->username || (*record)->seq <= call.user->created_seq) {
    return Error::not_found("No event of your tokens has seq " + std::to_string(seq) +
                            ". Proofs about other events are for the auditors group.");
  }
  return std::move(**record);
}

}  // namespace

Reply handle_inclusion_proof(App& app, Call& call) {
  const std::uint64_t head = app.store.head().seq;
  const std::string* seq_text = call.query_param("seq");
  if (seq_text == nullptr) return error_response(Error::invalid_field("seq: required (the event's seq)."));
  auto seq = event_seq(*seq_text, "seq", head);
  if (!seq) return error_response(seq.error());
  std::uint64_t tree_size = head;
  if (const std::string* size_text = call.query_param("tree_size")) {
    auto size = event_seq(*size_text, "tree_size", head);
    if (!size) return error_response(size.error());
    tree_size = *size;
  }
  if (*seq > tree_size) {
    return error_response(Error::invalid_field("tree_size: must be at least seq (" + std::to_string(*seq) + ")."));
  }
  if (auto record = readable_event(app, call, *seq); !record) return error_response(record.error());
  auto proof = app.merkle->inclusion(*seq, tree_size);
  if (!proof) return error_response(proof.error());
  return json_response(status::ok, inclusion_proof_json(*proof));
}

Reply handle_consistency_proof(App& app, Call& call) {
  const std::uint64_t head = app.store.head().seq;
  const std::string* from_text = call.query_param("from");
  const std::string* to_text = call.query_param("to");
  if (from_text == nullptr) return error_response(Error::invalid_field("from: required (the smaller tree size)."));
  auto from = event_seq(*from_text, "from", head);
  if (!from) return error_response(from.error());
  std::uint64_t to = head;
  if (to_text != nullptr) {
    auto parsed = event_seq(*to_text, "to", head);
    if (!parsed) return error_response(parsed.error());
    to = *parsed;
  }
  if (*from > to) return error_response(Error::invalid_field("from: must not be greater than to."));
  auto proof = app.merkle->consistency(*from, to);
  if (!proof) return error_response(proof.error());
  return json_response(status::ok, consistency_proof_json(*proof));
}

Reply handle_receipt(App& app, Call& call) {
  const std::uint64_t head = app.store.head().seq;
  auto seq = event_seq(call.params[0], "seq", head);
  if (!seq) {
    // A path segment that names no event is a resource that does not exist.
    return error_response(Error::not_found("No event has seq " + to_valid_utf8(call.params[0], 32) + "."));
  }
  auto record = readable_event(app, call, *seq);
  if (!record) return error_response(record.error());
  auto tree_head = newest_tree_head(app.store);
  if (!tree_head) return error_response(tree_head.error());
  const bool auditor = call.user->in_group(kGroupAuditors);
  if ((!*tree_head || (*tree_head)->size < *seq) && !auditor) {
    // An owner waits for the timer's next tree head: signing one per reveal on demand would let
    // any owner add a checkpoint per request to every list and witness (from an attacker's try).
    auto res = error_response(Error::unavailable(
        "No signed tree head covers seq " + std::to_string(*seq) +
        " yet; the server signs one with its next checkpoint (every --checkpoint-seconds, 60 by default)."));
    res.set(net::http::field::retry_after, "10");
    return res;
  }
  if (!*tree_head || (*tree_head)->size < *seq) {
    // Not covered yet: sign the head now (the checkpoint and its tree head), as POST
    // /api/v1/audit/checkpoints would; refused where this node may not sign (another node does).
    auto signed_now = app.integrity.sign_checkpoint();
    if (!signed_now) {
      auto res = error_response(Error::unavailable("No signed tree head covers seq " + std::to_string(*seq) +
                                                   " yet: " + signed_now.error().message));
      res.set(net::http::field::retry_after, "5");
      return res;
    }
    tree_head = newest_tree_head(app.store);
    if (!tree_head) return error_response(tree_head.error());
    if (!*tree_head || (*tree_head)->size < *seq) {
      return error_response(Error::unavailable("No signed tree head covers seq " + std::to_string(*seq) + " yet."));
    }
  }
  auto proof = app.merkle->inclusion(*seq, (*tree_head)->size);
  if (!proof) return error_response(proof.error());
  // The stored line binds the event shown to its hash; a creation's holds the code's ciphertext
  // and lookup hash, which only auditors' exports carry (API.md).
  const bool with_record = auditor || !std::holds_alternative<TokenCreated>(record->event);
  TokenDescriptions descriptions(app.store);
  return json_response(status::ok, receipt_json(*record, descriptions.at(*record), with_record, *proof, **tree_head,
                                                app.signer.public_key_hex()));
}

namespace {

// `head` without the lines of `drop` (a cosigner's earlier key) and with `line`, whose parsed form
// is `added`; an earlier line of the same key name and key id is replaced too.
TreeHead cosigned_note(const TreeHead& head, const std::optional<std::pair<std::string, std::string>>& drop,
                       const NoteSignature& added, std::string_view line) {
  TreeHead out = head;
  out.signatures.clear();
  out.note = head.body + "\n";
  for (const NoteSignature& s : head.signatures) {
    const bool same_key = s.key_name == added.key_name && s.key_id == added.key_id;
    const bool dropped = drop && s.key_name == drop->first && to_hex(s.key_id.data(), s.key_id.size()) == drop->second;
    if (same_key || dropped) continue;
    out.note += note_signature_line(s.key_name, s.key_id, s.signature);
    out.signatures.push_back(s);
  }
  out.note += std::string(line) + "\n";
  out.signatures.push_back(added);
  return out;
}

// Where a user's cosignature of the tree head of `size` is remembered: each auditor holds one line
// per tree head, so that no auditor can crowd the others out with lines of fresh keys.
std::string cosigner_key(std::uint64_t size, std::string_view user) {
  return "cosigner/" + encode_be64(size) + "/" + std::string(user);
}

}  // namespace

Reply handle_add_cosignature(App& app, Call& call) {
  auto body = parse_cosignature(call.req.body());
  if (!body) return error_response(body.error());
  auto key_bytes = from_hex(body->public_key);
  if (!key_bytes || key_bytes->size() != 32) {
    return error_response(Error::invalid_field("public_key: must be 64 hex digits (an Ed25519 public key)."));
  }
  Ed25519PublicKey key;
  std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
  std::string_view line = body->cosignature;
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) {
    return error_response(Error::invalid_field("cosignature: one signature line."));
  }
  auto signature = parse_note_signature(line);
  if (!signature) return error_response(Error::invalid_field("cosignature: " + signature.error().message));
  // Only a tree head this log signed is cosigned, and only with a signature that verifies: the
  // list then holds nothing a reader could not check. One read-modify-write of a note at a time.
  static std::mutex cosigning;
  const std::lock_guard lock(cosigning);
  auto heads = list_tree_heads(app.store);
  if (!heads) return error_response(heads.error());
  const auto head =
      std::find_if(heads->begin(), heads->end(), [&](const TreeHead& h) { return h.size == body->tree_size; });
  if (head == heads->end()) {
    return error_response(
        Error::invalid_field("tree_size: no signed tree head has size " + std::to_string(body->tree_size) + "."));
  }
  if (signature->key_name == head->origin) {
    return error_response(Error::invalid_field("cosignature: the key name is the log's own (" + head->origin + ")."));
  }
  auto timestamp = verify_cosignature(*head, *signature, signature->key_name, key);
  if (!timestamp) return error_response(Error::invalid_field("cosignature: " + timestamp.error().message));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(call.now.time_since_epoch()).count();
  if (*timestamp > static_cast<std::uint64_t>(now_s) + kCosignatureClockSkewSeconds) {
    return error_response(Error::invalid_field("cosignature: its timestamp is in the future (this server's clock)."));
  }
  const std::string slot = cosigner_key(head->size, call.ctx.actor.user);
  auto earlier = app.store.get_side(SideStore::meta, slot);
  if (!earlier) return error_response(earlier.error());
  std::optional<std::pair<std::string, std::string>> drop;
  if (*earlier) {
    const auto newline = (*earlier)->find('\n');
    drop.emplace((*earlier)->substr(0, newline), (*earlier)->substr(newline + 1));
  }
  // A line of a key already on the tree head is its holder's to replace: another auditor posting a
  // copy would take the slot and, with her next post, drop that line (a reviewer's finding).
  const std::string id_hex = to_hex(signature->key_id.data(), signature->key_id.size());
  const bool on_head = std::any_of(head->signatures.begin(), head->signatures.end(), [&](const NoteSignature& s) {
    return s.key_name == signature->key_name && s.key_id == signature->key_id;
  });
  if (on_head && (!drop || drop->first != signature->key_name || drop->second != id_hex)) {
    return error_response(Error::invalid_field(
        "cosignature: a line of this key is on the tree head already, posted by another auditor."));
  }
  const TreeHead cosigned = cosigned_note(*head, drop, *signature, line);
  if (cosigned.signatures.size() > kMaxCosignatures + 1) {
    return error_response(Error::invalid_field("cosignature: the tree head of size " + std::to_string(head->size) +
                                               " holds " + std::to_string(kMaxCosignatures) +
                                               " cosignatures already."));
  }
  if (auto stored = store_tree_head(app.store, cosigned); !stored) return error_response(stored.error());
  if (auto kept = app.store.put_side(SideStore::meta, slot, signature->key_name + "\n" + id_hex); !kept) {
    return error_response(kept.error());
  }
  JsonWriter w;
  w.begin_object().key("tree_size").value(cosigned.size).key("checkpoint").value(cosigned.note).end_object();
  return json_response(status::created, std::move(w).str());
}

}  // namespace tl
