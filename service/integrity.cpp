#include "service/integrity.hpp"

#include <sodium.h>

#include <cstring>
#include <optional>

#include "eventstore/chain_link.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/audit_index.hpp"
#include "projections/owner_snapshot_check.hpp"
#include "projections/read_model.hpp"
#include "service/integrity_cheap.hpp"
#include "service/key_material.hpp"

namespace tl {
namespace {

using integrity_detail::check_cheap;
using integrity_detail::fail;
using integrity_detail::holds_record;

constexpr std::string_view kVerifiedCheckpointKey = "verified_checkpoint";

// The record a stream-index entry points at must carry that stream and version.
std::string stream_entry_problem(const EventLog& store, std::string_view key, std::uint64_t seq) {
  auto record = store.read(seq);
  if (!record || !*record) return "points at seq " + std::to_string(seq) + ", which the log does not hold";
  const std::string expected = stream_index_key((*record)->stream, (*record)->version);
  return key == expected ? "" : "points at seq " + std::to_string(seq) + ", a record of another stream or version";
}

std::string audit_entry_problem(const EventLog& store, std::string_view key, std::uint64_t seq) {
  auto record = store.read(seq);
  if (!record || !*record) return "points at seq " + std::to_string(seq) + ", which the log does not hold";
  std::vector<std::string> keys;
  AuditIndex::keys_of(**record, keys);
  for (const auto& k : keys) {
    if (k == key) return "";
  }
  return "names seq " + std::to_string(seq) + " for a token, actor, owner or type the record does not have";
}

// The audit index's keys the check compares: every entry, the owner keys only once back-filled
// (AuditIndex::kOwnerIndexMarker), never the marker itself.
std::function<bool(std::string_view)> audit_keys_checked(bool owners) {
  return [owners](std::string_view key) {
    return key != AuditIndex::kOwnerIndexMarker && (owners || !AuditIndex::is_owner_key(key));
  };
}

// Each record's audit index entries looked up one by one: slow on a whole log (the check sums
// instead), exact in naming a missing one.
RecordCheck audit_lookup(const EventLog& store, std::vector<std::string>& keys, bool owners) {
  return {"audit_index", [&store, &keys, owners](const Record& record) {
            AuditIndex::keys_of(record, keys, owners);
            for (const auto& key : keys) {
              auto has = store.state().has(AuditIndex::kColumnFamily, key);
              if (!has) return has.error().message;
              if (!*has) {
                return "the audit index lacks the record's entry by " + std::string(key[0] == 't'   ? "token"
                                                                                    : key[0] == 'a' ? "actor"
                                                                                    : key[0] == 'o' ? "owner"
                                                                                                    : "type");
              }
            }
            return std::string();
          }};
}

// A set of keys as a sum of their keyed SipHash-128 values (mod 2^64 per half) and a count: two
// sets are equal exactly when their sums are, but for a chance of about 2^-128 that no one can
// steer without the key, which is random per check. It lets the audit index be compared with
// what the records imply in one sequential scan instead of a lookup per entry (lookups in a
// column family of millions of keys ran at ~5 k records/s).
class KeySum {
 public:
  explicit KeySum(const unsigned char* secret) : secret_(secret) {}
  void add(std::string_view key) {
    unsigned char h[crypto_shorthash_siphashx24_BYTES];
    crypto_shorthash_siphashx24(h, reinterpret_cast<const unsigned char*>(key.data()), key.size(), secret_);
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, h, 8);
    std::memcpy(&y, h + 8, 8);
    lo_ += x, hi_ += y, ++count_;
  }
  std::uint64_t count() const { return count_; }
  KeySum empty_like() const { return KeySum(secret_); }
  bool same_as(const KeySum& o) const { return lo_ == o.lo_ && hi_ == o.hi_ && count_ == o.count_; }

 private:
  const unsigned char* secret_;
  std::uint64_t lo_ = 0, hi_ = 0, count_ = 0;
};

// The index `family` ("streams", the log's own, or the audit index, a projection's), key by key.
Status scan_index(const EventLog& store, const std::string& family,
                  const std::function<bool(std::string_view)>& checked,
                  const std::function<bool(std::string_view, std::string_view)>& visit) {
  if (family == "streams") return store.scan_stream_index(visit);
  return store.state().scan(family, {.sequential = true}, [&](std::string_view key, std::string_view value) {
    return !checked(key) || visit(key, value);
  });
}

// After the walk: the indexes hold exactly the entries the records imply (`expected`: the count,
// or for the audit index the KeySum too). Entries newer than the walk (a live server appends
// meanwhile) are fine unless they point past the head. On a difference, `find_missing` (a slow
// walk looking each entry up) names a missing entry, else the second scan names an extra one.
template <class SeqOf, class ProblemOf>
bool check_index(const EventLog& store, const std::string& family, const std::function<bool(std::string_view)>& checked,
                 std::string_view kind, std::uint64_t walked_to, std::uint64_t expected, const KeySum* expected_sum,
                 SeqOf seq_of, ProblemOf problem_of, const std::function<bool(IntegrityReport&)>& find_missing,
                 std::uint64_t& counted, IntegrityReport& r) {
  counted = 0;
  std::uint64_t past_head = 0, valued = 0;
  std::optional<KeySum> actual;
  if (expected_sum != nullptr) actual.emplace(expected_sum->empty_like());
  auto scanned = scan_index(store, family, checked, [&](std::string_view key, std::string_view value) {
    const std::uint64_t seq = seq_of(key, value);
    if (expected_sum != nullptr && !value.empty() && valued == 0) valued = seq;
    if (seq <= walked_to) {
      ++counted;
      if (actual) actual->add(key);
    } else if (past_head == 0 && seq > store.head().seq && !holds_record(store, seq)) {
      past_head = seq;
    }
    return true;
  });
  if (!scanned) return fail(r, 0, std::string(kind), scanned.error().message);
  if (past_head != 0) {
    return fail(r, past_head, std::string(kind),
                "an entry of the " + family + " index points at seq " + std::to_string(past_head) +
                    ", past the log's head " + std::to_string(store.head().seq) +
                    ": records were cut, or the entry was added");
  }
  if (valued != 0) {
    return fail(
        r, valued, std::string(kind),
        "an entry of the " + family + " index for seq " + std::to_string(valued) + " carries a value: it was altered");
  }
  if (actual ? actual->same_as(*expected_sum) : counted == expected) return true;
  if (find_missing && !find_missing(r)) return false;
  // Entries no record explains: find the first.
  std::uint64_t bad = 0;
  std::string problem = std::to_string(counted) + " entries where the records imply " + std::to_string(expected);
  (void)scan_index(store, family, checked, [&](std::string_view key, std::string_view value) {
    const std::uint64_t seq = seq_of(key, value);
    if (seq > walked_to) return true;
    if (std::string p = problem_of(key, seq); !p.empty()) {
      bad = seq, problem = "an entry of the " + family + " index " + p;
      return false;
    }
    return true;
  });
  return fail(r, bad, std::string(kind), problem);
}

// Heads the report at the store's head; the signed checkpoints, or nullopt with the report failed.
std::optional<std::vector<SignedCheckpoint>> begin_report(const EventLog& store, IntegrityReport& r) {
  r.chain.head = store.head();
  auto checkpoints = list_checkpoints(store);
  if (!checkpoints) {
    fail(r, 0, "checkpoint", checkpoints.error().message);
    return std::nullopt;
  }
  return std::move(*checkpoints);
}

}  // namespace

IntegrityReport check_integrity(const EventLog& store, const IntegrityOptions& o) {
  IntegrityReport r;
  auto checkpoints = begin_report(store, r);
  if (!checkpoints) return r;
  // The walk first: damage to a record is named at that record, before what it breaks further on.
  // It sums the audit index keys each record implies; one scan of the index is compared with that.
  unsigned char secret[crypto_shorthash_siphashx24_KEYBYTES];
  ensure_sodium();
  randombytes_buf(secret, sizeof secret);
  KeySum audit_expected(secret);
  std::vector<std::string> keys;
  RecordCheck audit_sum;
  auto owners = AuditIndex::owner_index_complete(store);
  if (!owners) {
    fail(r, 0, "audit_index", owners.error().message);
    return r;
  }
  // The owner snapshots are compared as the walk reaches each (a fold of the walked records).
  std::unique_ptr<OwnerSnapshotCheck> snapshots;
  std::string snapshots_unreadable;  // reported after the walk, which names damage to records first
  bool snapshot_failed = false;
  if (o.indexes) {
    auto loaded = OwnerSnapshotCheck::load(store);
    if (!loaded) {
      snapshots_unreadable = loaded.error().message;
    } else if ((*loaded)->snapshots() > 0) {
      snapshots = std::move(*loaded);
    }
    audit_sum.kind = "audit_index";
    audit_sum.check = [&](const Record& record) {
      AuditIndex::keys_of(record, keys, *owners);
      for (const auto& key : keys) audit_expected.add(key);
      std::string problem = snapshots ? snapshots->check(record) : std::string();
      snapshot_failed = !problem.empty();
      return problem;
    };
  }
  bool go_on = true;
  auto pause = o.pause ? std::function<bool()>([&] { return go_on = o.pause(); }) : std::function<bool()>();
  r.chain = store.verify_from(1, kGenesisHash, o.progress, audit_sum, pause);
  if (!go_on) r.stopped = true;
  if (!r.chain.ok) {
    fail(r, r.chain.first_bad_seq, snapshot_failed ? "owner_snapshot" : r.chain.kind, r.chain.problem);
    return r;
  }
  if (r.stopped || !check_cheap(store, o, 0, *checkpoints, r) || !o.indexes) return r;
  const std::uint64_t walked = r.chain.head.seq;
  if (!snapshots_unreadable.empty()) {
    fail(r, 0, "owner_snapshot", snapshots_unreadable);
    return r;
  }
  if (const std::uint64_t past = snapshots ? snapshots->first_past(store.head().seq) : 0;
      past != 0 && !holds_record(store, past)) {
    fail(r, past, "owner_snapshot",
         "an owner snapshot is at seq " + std::to_string(past) + ", past the log's head " +
             std::to_string(store.head().seq) + ": records were cut, or it was added");
    return r;
  }
  if (!check_index(
          store, "streams", {}, "stream_index", walked, walked, nullptr,
          [](std::string_view, std::string_view value) { return decode_be64(value); },
          [&store](std::string_view key, std::uint64_t seq) { return stream_entry_problem(store, key, seq); }, {},
          r.stream_entries, r)) {
    return r;
  }
  // Only on a difference: walk again looking each record's entries up, to name a missing one.
  const RecordCheck lookup = audit_lookup(store, keys, *owners);
  auto find_missing = [&](IntegrityReport& report) {
    const VerifyReport again = store.verify_from(1, kGenesisHash, {}, lookup);
    return again.ok || fail(report, again.first_bad_seq, again.kind, again.problem);
  };
  check_index(
      store, AuditIndex::kColumnFamily, audit_keys_checked(*owners), "audit_index", walked, 0, &audit_expected,
      [](std::string_view key, std::string_view) { return AuditIndex::seq_of_key(key); },
      [&store](std::string_view key, std::uint64_t seq) { return audit_entry_problem(store, key, seq); }, find_missing,
      r.audit_entries, r);
  return r;
}

IntegrityReport check_at_start(const EventLog& store, const IntegrityOptions& o) {
  IntegrityReport r;
  auto checkpoints = begin_report(store, r);
  if (!checkpoints) return r;
  // The newest checkpoint, and every one after the newest a start verified before.
  const std::uint64_t verified = verified_checkpoint_seq(store);
  std::size_t first = checkpoints->empty() ? 0 : checkpoints->size() - 1;
  while (first > 0 && (*checkpoints)[first - 1].seq > verified) --first;
  check_cheap(store, o, first, *checkpoints, r);
  return r;
}

IntegrityReport check_since(const EventLog& store, const IntegrityOptions& o, const Head& base) {
  IntegrityReport r;
  auto checkpoints = begin_report(store, r);
  if (!checkpoints) return r;
  auto owners = AuditIndex::owner_index_complete(store);
  if (!owners) {
    fail(r, 0, "audit_index", owners.error().message);
    return r;
  }
  // The record the earlier check ended at must still be the one it walked: the walk below trusts its hash.
  if (base.seq > 0) {
    auto raw = store.read_raw(base.seq);
    if (!raw) {
      fail(r, base.seq, "chain", raw.error().message);
      return r;
    }
    const bool same = *raw && record_hash_matches(**raw) && [&] {
      auto record = decode_record(**raw);
      return record && record->hash == base.hash;
    }();
    if (!same) {
      fail(r, base.seq, "chain",
           "the record at seq " + std::to_string(base.seq) +
               " is not the one the last full check walked: it was removed or altered since");
      return r;
    }
  }
  std::vector<std::string> keys;
  std::uint64_t looked_up = 0;
  RecordCheck lookup;
  if (o.indexes) {
    lookup = audit_lookup(store, keys, *owners);
    lookup.check = [inner = lookup.check, &keys, &looked_up](const Record& record) {
      std::string problem = inner(record);
      looked_up += keys.size();
      return problem;
    };
  }
  r.chain = store.verify_from(base.seq + 1, base.hash, o.progress, lookup, o.pause);
  if (!r.chain.ok) {
    fail(r, r.chain.first_bad_seq, r.chain.kind, r.chain.problem);
    return r;
  }
  if (o.indexes) r.stream_entries = r.chain.events, r.audit_entries = looked_up;
  // The checkpoint the earlier check saw last (the prev link of the next) and every one after it.
  std::size_t first = 0;
  while (first + 1 < checkpoints->size() && (*checkpoints)[first + 1].seq <= base.seq) ++first;
  check_cheap(store, o, first, *checkpoints, r);
  return r;
}

std::uint64_t verified_checkpoint_seq(const EventLog& store) {
  auto saved = store.get_side(SideStore::meta, kVerifiedCheckpointKey);
  return saved && *saved ? decode_be64(**saved) : 0;
}

Status remember_verified_checkpoint(EventLog& store, std::uint64_t seq) {
  return store.put_side(SideStore::meta, kVerifiedCheckpointKey, encode_be64(seq));
}

}  // namespace tl
