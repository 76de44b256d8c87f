// The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1 over the log's records, beside
// the hash chain: the leaf of event N (seq N, leaf index N-1) is its record hash (32 bytes), hashed
// as RFC 9162 leaves are. An inclusion proof shows that one event is in the log of a given size
// with a few hundred bytes; a consistency proof shows that a later log extends an earlier one
// (nothing cut or rewritten in between). Issue 18, item 4.
#pragma once

#include <array>
#include <cstdint>
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

// The tree of the leaves appended so far, kept as the hash of every complete subtree (2^h leaves
// starting at a multiple of 2^h, for every h): 64 bytes per leaf; an append costs O(log n) hashes,
// a root or a proof O(log n) lookups and at most O(log n) hashes. Not thread-safe.
class Tree {
 public:
  // Appends the leaf whose hash (leaf_hash) is `leaf`.
  void append(const Hash& leaf);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // MTH(D[0:size]) for size <= size() (§2.1.1). Errors: invalid_field when size > size().
  Result<Hash> root(std::uint64_t size) const;
  // PATH(index, D[0:size]) (§2.1.3.1), the sibling nearest the leaf first. Errors: invalid_field
  // when index >= size or size > size().
  Result<std::vector<Hash>> inclusion_path(std::uint64_t index, std::uint64_t size) const;
  // PROOF(first, D[0:second]) (§2.1.4.1). Errors: invalid_field when first > second, first is 0
  // or second > size().
  Result<std::vector<Hash>> consistency_path(std::uint64_t first, std::uint64_t second) const;

 private:
  // MTH(D[begin:end)), begin < end <= size().
  Hash subtree(std::uint64_t begin, std::uint64_t end) const;
  void path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash>& out) const;
  void subproof(std::uint64_t first, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash>& out) const;

  std::vector<std::vector<Hash>> levels_;  // levels_[h][i]: MTH(D[i·2^h : (i+1)·2^h])
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
