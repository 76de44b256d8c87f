// The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1 over the log's records, beside
// the hash chain: the leaf of event N (seq N, leaf index N-1) is its record hash (32 bytes), hashed
// as RFC 9162 leaves are. An inclusion proof shows that one event is in the log of a given size
// with a few hundred bytes; a consistency proof shows that a later log extends an earlier one
// (nothing cut or rewritten in between). Issue 18, item 4.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace tl::merkle {

using Hash = std::array<std::uint8_t, 32>;

// SHA-256 of the empty string: the root of the empty tree (§2.1.1).
Hash empty_root();
// SHA-256(0x00 || leaf): the hash of one leaf (§2.1.1).
Hash leaf_hash(std::string_view leaf);
// SHA-256(0x01 || left || right): an inner node (§2.1.1).
Hash node_hash(const Hash& left, const Hash& right);

// The leaf hashes of leaves [first, first + count), for a tree that does not keep them (see Tree).
// Called from const member functions: it must be safe to call from several threads at once.
// Errors are passed on to the caller of the proof.
using LeafSource = std::function<Result<std::vector<Hash>>(std::uint64_t first, std::uint64_t count)>;

// The tree of the leaves appended so far, kept as the hash of every complete subtree (2^h leaves
// starting at a multiple of 2^h) for every h >= base_level, and the leaves of the last, incomplete
// chunk (fewer than 2^base_level leaves). An append costs O(log n) hashes, a root or a proof
// O(log n) lookups and hashes, plus, for a subtree inside a complete chunk, the chunk's leaves from
// the LeafSource and at most 2^base_level hashes. Memory: about 64 / 2^base_level bytes per leaf
// (base_level 0 keeps every leaf hash: 64 bytes per leaf; base_level 6: about 1 byte per leaf).
// Appends are not thread-safe; const calls are, when the LeafSource is.
class Tree {
 public:
  // Keeps every leaf hash (base level 0).
  Tree() = default;
  // Keeps the levels from `base_level` (at most 16) up; `source` answers the leaves of complete
  // chunks.
  Tree(unsigned base_level, LeafSource source);

  // Appends the leaf whose hash (leaf_hash) is `leaf`. Returns true when it completed a chunk.
  bool append(const Hash& leaf);
  // Appends a complete chunk of chunk_size() leaves by its root (MTH of its leaves), as saved
  // before: loading a tree without hashing every leaf again. Programming error while a partial
  // chunk is held.
  void append_chunk(const Hash& chunk_root);
  std::uint64_t size() const { return size_; }
  std::uint64_t chunk_size() const { return std::uint64_t{1} << base_; }
  // Chunks of chunk_size() leaves complete so far, and the root of one of them.
  std::uint64_t complete_chunks() const { return levels_.empty() ? 0 : levels_[0].size(); }
  const Hash& chunk_root(std::uint64_t chunk) const { return levels_[0][chunk]; }

  // MTH(D[0:size]) for size <= size() (§2.1.1). Errors: invalid_field when size > size(); the
  // LeafSource's.
  Result<Hash> root(std::uint64_t size) const;
  // PATH(index, D[0:size]) (§2.1.3.1), the sibling nearest the leaf first. Errors: invalid_field
  // when index >= size or size > size(); the LeafSource's.
  Result<std::vector<Hash>> inclusion_path(std::uint64_t index, std::uint64_t size) const;
  // PROOF(first, D[0:second]) (§2.1.4.1). Errors: invalid_field when first > second, first is 0
  // or second > size(); the LeafSource's.
  Result<std::vector<Hash>> consistency_path(std::uint64_t first, std::uint64_t second) const;
  // The hash of leaf `index` < size(). Errors: the LeafSource's.
  Result<Hash> leaf(std::uint64_t index) const;

 private:
  struct Lookup;  // one proof's fetched chunks and the first error
  // MTH(D[begin:end)), begin < end <= size().
  Hash subtree(std::uint64_t begin, std::uint64_t end, Lookup& lookup) const;
  // The leaves of the chunk holding leaf `index`, and the index of its first leaf.
  const std::vector<Hash>& chunk_leaves(std::uint64_t index, Lookup& lookup, std::uint64_t& first) const;
  void path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash>& out, Lookup& lookup) const;
  void subproof(std::uint64_t first, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash>& out,
                Lookup& lookup) const;
  void push_complete(Hash chunk_root);

  unsigned base_ = 0;
  LeafSource source_;
  std::uint64_t size_ = 0;
  std::vector<std::vector<Hash>> levels_;  // levels_[k][i]: MTH(D[i·2^h : (i+1)·2^h]), h = base_ + k
  std::vector<Hash> tail_;                 // the leaves of the incomplete chunk
};

// The root an inclusion proof leads to (§2.1.3.2): what a verifier compares with a signed tree
// head's. Errors: invalid_field when index >= size or the path has the wrong length.
Result<Hash> root_from_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                                 const std::vector<Hash>& path);
// Whether `path` proves that the tree of `second` leaves with root `second_root` extends the tree
// of `first` leaves with root `first_root` (§2.1.4.2; first == second: equal roots and an empty
// path). Errors: invalid_field naming what does not hold.
Status verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                          const std::vector<Hash>& path);

}  // namespace tl::merkle
