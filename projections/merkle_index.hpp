// The log's RFC 9162 Merkle tree (eventstore/merkle), folded by every node from the records it
// commits or follows, as the other projections are: leaf N-1 is SHA-256(0x00 || record N's hash
// bytes). It keeps the subtrees of 64 leaves and up (about 1 byte per event) and reads the record
// hashes of one chunk from the log when a proof needs a subtree inside it. Each completed chunk's
// root is saved in the projection state (key "m/" + be64(chunk)), so a start loads them and folds
// only the records after the last one. Issue 18, item 4.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/merkle.hpp"

namespace tl {

// RFC 9162 §2.1.3: event `seq` (leaf_index seq-1) is in the tree of `tree_size` leaves.
struct InclusionProof {
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  merkle::Hash leaf_hash{};
  merkle::Hash root_hash{};
  std::vector<merkle::Hash> path;
};

// RFC 9162 §2.1.4: the tree of `second` leaves extends the tree of `first` leaves.
struct ConsistencyProof {
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  merkle::Hash first_root{};
  merkle::Hash second_root{};
  std::vector<merkle::Hash> path;
};

// The leaf hash of a record: SHA-256(0x00 || the 32 bytes its `hash` (64 hex digits) names).
merkle::Hash record_leaf_hash(std::string_view record_hash_hex);

class MerkleIndex final : public Subscriber {
 public:
  static constexpr unsigned kBaseLevel = 6;  // chunks of 64 leaves
  static constexpr std::string_view kPrefix = "m/";

  // Registers with the store; call before anything is appended.
  explicit MerkleIndex(EventLog& store);

  // Loads the saved chunk roots (the unbroken run from chunk 0 that the log covers) and folds the
  // records after them; saves the chunks it completes (a writable store). Errors: unavailable;
  // internal when records are missing (the tree then holds those before the first missing one).
  Status load(const std::function<void(std::uint64_t)>& progress = {});

  void on_committed(std::span<const Record> records) override;

  // Leaves folded so far (= the last folded seq).
  std::uint64_t size() const;
  // MTH of the first `tree_size` events. Errors: invalid_field naming tree_size beyond the log;
  // unavailable when the log cannot be read.
  Result<merkle::Hash> root(std::uint64_t tree_size) const;
  // The leaf hash of event `seq`. Errors: invalid_field (seq); unavailable.
  Result<merkle::Hash> leaf_hash(std::uint64_t seq) const;
  // Errors: invalid_field naming seq or tree_size (seq 0, seq > tree_size, tree_size beyond the
  // log); unavailable.
  Result<InclusionProof> inclusion(std::uint64_t seq, std::uint64_t tree_size) const;
  // Errors: invalid_field naming from or to (from 0, from > to, to beyond the log); unavailable.
  Result<ConsistencyProof> consistency(std::uint64_t first, std::uint64_t second) const;

 private:
  // Folds records up to `seq` from the log when the tree is behind it (records committed by
  // another node that this one has not been told of yet). Holds the lock exclusively.
  Status catch_up(std::uint64_t seq) const;
  // Appends one leaf (mutex_ held exclusively); a completed chunk's root goes to `batch`.
  void append_leaf(const merkle::Hash& leaf, StateBatch* batch) const;
  // Compares the tree with the newest signed tree head it covers; when they differ, folds the tree
  // again from the records (the saved chunks were stale or altered). mutex_ held exclusively.
  Status check_signed_head(const std::function<void(std::uint64_t)>& progress);
  Status fold_from_log(std::uint64_t to, const std::function<void(std::uint64_t)>& progress) const;
  Result<std::vector<merkle::Hash>> read_leaves(std::uint64_t first, std::uint64_t count) const;
  merkle::Tree empty_tree() const;  // chunks of 2^kBaseLevel, their leaves read from the log

  EventLog& store_;
  mutable std::shared_mutex mutex_;
  // Mutable: a const read that finds the tree behind the log folds the missing records first.
  mutable merkle::Tree tree_;
};

}  // namespace tl
