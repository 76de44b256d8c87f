#include "service/integrity_cheap.hpp"

#include "eventstore/chain_link.hpp"
#include "eventstore/codec.hpp"
#include "projections/audit_index.hpp"
#include "projections/read_model.hpp"
#include "service/key_material.hpp"

namespace tl::integrity_detail {

bool fail(IntegrityReport& r, std::uint64_t seq, std::string kind, std::string problem) {
  r.ok = false;
  r.first_bad_seq = seq;
  r.kind = std::move(kind);
  r.problem = std::move(problem);
  return false;
}

bool holds_record(const EventLog& store, std::uint64_t seq) {
  auto raw = store.read_raw(seq);
  return raw.ok() && raw->has_value();
}

namespace {

// The appender writes the head beside the records in every batch: a marker past the last record
// means records were cut from the end (e.g. `ldb deleterange` on the events family).
bool check_head_marker(const EventLog& store, IntegrityReport& r) {
  // The appender moves both at once; a batch that lands between the two reads would look like
  // records the appender did not write: read them again until no batch landed in between.
  auto same = [](const std::optional<Head>& a, const std::optional<Head>& b) {
    return a.has_value() == b.has_value() && (!a || (a->seq == b->seq && a->hash == b->hash));
  };
  std::optional<Head> marker = store.head_marker();
  Head head = store.head();
  for (int i = 0; i < 100; ++i) {
    const std::optional<Head> after = store.head_marker();
    if (same(marker, after)) break;
    marker = after;
    head = store.head();
  }
  if (!marker) {
    // Written before the marker existed (the next append writes it), unless this release wrote
    // here already: its first start records the key check value, and with it the marker.
    if (store.stream_version(std::string(kKeyCheckStream)) == kNoStream) return true;
    return fail(r, head.seq + 1, "head_marker",
                "the head marker is missing from meta although this release wrote to the log: it was removed, "
                "perhaps to hide records cut after seq " +
                    std::to_string(head.seq));
  }
  if (marker->seq > head.seq) {
    return fail(r, head.seq + 1, "head_marker",
                "the log ends at seq " + std::to_string(head.seq) + ", but records were written up to seq " +
                    std::to_string(marker->seq) + ": the newest records were cut");
  }
  if (marker->seq < head.seq) {
    return fail(r, marker->seq + 1, "head_marker",
                "records after seq " + std::to_string(marker->seq) + " were not written by the appender");
  }
  if (marker->hash != head.hash) {
    return fail(r, head.seq, "head_marker", "the last record is not the one the appender wrote");
  }
  return true;
}

// One checkpoint against the log and the key: signed by it, and the log reaches it with that hash.
bool check_checkpoint(const EventLog& store, const SignedCheckpoint& c, std::string_view key_hex, std::string_view kind,
                      IntegrityReport& r) {
  const std::string what = kind == "witness" ? "witnessed checkpoint" : "signed checkpoint";
  if (!checkpoint_signature_trusted(c, key_hex)) {
    return fail(r, c.seq, std::string(kind),
                "the " + what + " at seq " + std::to_string(c.seq) +
                    ": its signature does not verify with the public key " +
                    std::string(key_hex.empty() ? c.public_key : key_hex));
  }
  const Head head = store.head();
  if (c.seq > head.seq) {
    return fail(r, head.seq + 1, std::string(kind),
                "the log ends at seq " + std::to_string(head.seq) + ", before the " + what + " at seq " +
                    std::to_string(c.seq) + ": records were cut");
  }
  auto raw = store.read_raw(c.seq);
  if (!raw) return fail(r, c.seq, std::string(kind), raw.error().message);
  if (!*raw) {
    return fail(r, c.seq, std::string(kind),
                "the log has no record at the " + what + "'s seq " + std::to_string(c.seq) +
                    " (no record at the checkpoint's seq): records were cut");
  }
  auto record = decode_record(**raw);
  if (!record || record->hash != c.hash || !record_hash_matches(**raw)) {
    return fail(r, c.seq, std::string(kind),
                "the log's record at seq " + std::to_string(c.seq) + " is not the one that was signed (" + what +
                    "): history was rewritten");
  }
  return true;
}

// Signed checkpoints from index `first` on (each with the one before it for the `prev` link).
bool check_checkpoints(const EventLog& store, const std::vector<SignedCheckpoint>& all, std::size_t first,
                       std::string_view key_hex, IntegrityReport& r) {
  for (std::size_t i = first; i < all.size(); ++i) {
    const SignedCheckpoint& c = all[i];
    const std::string expected_prev = checkpoint_prev_after(i == 0 ? nullptr : &all[i - 1]);
    if (!check_checkpoint(store, c, key_hex, "checkpoint", r)) return false;
    if (c.prev != expected_prev) {
      return fail(r, c.seq, "checkpoint",
                  "the signed checkpoint at seq " + std::to_string(c.seq) +
                      " does not name the one before it: a checkpoint was removed or replaced");
    }
    ++r.checkpoints;
    r.last_checkpoint_seq = c.seq;
  }
  return true;
}

bool check_witnessed(const EventLog& store, const IntegrityOptions& o, IntegrityReport& r) {
  for (const SignedCheckpoint& c : o.witnessed) {
    if (!check_checkpoint(store, c, o.trusted_public_key, "witness", r)) return false;
    ++r.witnessed;
  }
  return true;
}

// The newest audit index entry of each event type, one seek each: none may point past the head
// (a cut of the newest records leaves them behind) unless the record is there (appended meanwhile).
bool check_type_index_tails(const EventLog& store, IntegrityReport& r) {
  const Head head = store.head();
  for (const std::string& type : known_event_types()) {
    const std::string prefix = "y" + type + std::string(1, '\0');
    auto last = store.state().last_key_with_prefix(AuditIndex::kColumnFamily, prefix);
    if (!last) return fail(r, 0, "audit_index", last.error().message);
    if (*last && AuditIndex::seq_of_key(**last) > head.seq && !holds_record(store, AuditIndex::seq_of_key(**last))) {
      return fail(r, head.seq + 1, "audit_index",
                  "the audit index names a " + type + " at seq " + std::to_string(AuditIndex::seq_of_key(**last)) +
                      ", past the log's head " + std::to_string(head.seq) + ": records were cut");
    }
  }
  return true;
}

bool check_projection(const EventLog& store, IntegrityReport& r) {
  auto saved = ReadModel::saved_checkpoint_seq(store);
  if (!saved) return fail(r, 0, "projection", saved.error().message);
  const Head head = store.head();
  if (*saved > head.seq) {
    return fail(r, head.seq + 1, "projection",
                "the projection checkpoint reflects seq " + std::to_string(*saved) + ", but the log ends at seq " +
                    std::to_string(head.seq) + ": records were cut");
  }
  return true;
}

}  // namespace

bool check_cheap(const EventLog& store, const IntegrityOptions& o, std::size_t first_checkpoint,
                 const std::vector<SignedCheckpoint>& checkpoints, IntegrityReport& r) {
  IntegrityReport signed_part = r, witnessed = r, marker = r, projection = r, tails = r;
  check_checkpoints(store, checkpoints, first_checkpoint, o.trusted_public_key, signed_part);
  check_witnessed(store, o, witnessed);
  check_head_marker(store, marker);
  check_projection(store, projection);
  check_type_index_tails(store, tails);
  r.checkpoints = signed_part.checkpoints;
  r.last_checkpoint_seq = signed_part.last_checkpoint_seq;
  r.witnessed = witnessed.witnessed;
  const IntegrityReport* worst = nullptr;
  for (const IntegrityReport* part : {&signed_part, &witnessed, &marker, &projection, &tails}) {
    if (!part->ok && (worst == nullptr || part->first_bad_seq < worst->first_bad_seq)) worst = part;
  }
  if (worst == nullptr) return true;
  return fail(r, worst->first_bad_seq, worst->kind, worst->problem);
}

}  // namespace tl::integrity_detail
