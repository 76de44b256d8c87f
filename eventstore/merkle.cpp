#include "eventstore/merkle.hpp"

#include <sodium.h>

#include <bit>
#include <deque>
#include <stdexcept>
#include <string>

namespace tl::merkle {
namespace {

// The largest power of two below n (n >= 2): where §2.1.1 splits D[n].
std::uint64_t split(std::uint64_t n) { return std::bit_floor(n - 1); }

Error invalid(std::string message) { return Error::invalid_field(std::move(message)); }

// Right-shifts fn and sn together until fn's lowest bit is set or fn is 0 (§2.1.3.2 and §2.1.4.2).
void shift_while_even(std::uint64_t& fn, std::uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Hash empty_root() {
  Hash h;
  crypto_hash_sha256(h.data(), nullptr, 0);
  return h;
}

Hash leaf_hash(std::string_view leaf) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  const unsigned char prefix = 0x00;
  crypto_hash_sha256_update(&state, &prefix, 1);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(leaf.data()), leaf.size());
  Hash h;
  crypto_hash_sha256_final(&state, h.data());
  return h;
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::array<unsigned char, 65> bytes;
  bytes[0] = 0x01;
  std::copy(left.begin(), left.end(), bytes.begin() + 1);
  std::copy(right.begin(), right.end(), bytes.begin() + 33);
  Hash h;
  crypto_hash_sha256(h.data(), bytes.data(), bytes.size());
  return h;
}

struct Tree::Lookup {
  struct Chunk {
    std::uint64_t first = 0;
    std::vector<Hash> leaves;
  };
  std::deque<Chunk> chunks;  // a proof touches few chunks (a deque: references stay valid)
  Status status;
};

Tree::Tree(unsigned base_level, LeafSource source) : base_(base_level), source_(std::move(source)) {
  if (base_level > 16) throw std::invalid_argument("merkle::Tree: base level above 16");
  if (base_level > 0 && !source_) throw std::invalid_argument("merkle::Tree: a base level needs a leaf source");
}

void Tree::push_complete(Hash chunk_root) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(chunk_root);
  // Each level whose count became even completes one subtree a level up.
  for (std::size_t k = 0; levels_[k].size() % 2 == 0; ++k) {
    if (levels_.size() == k + 1) levels_.emplace_back();
    const auto& level = levels_[k];
    levels_[k + 1].push_back(node_hash(level[level.size() - 2], level.back()));
  }
}

namespace {

// MTH of a run of 2^h leaf hashes (a complete subtree), h >= 0.
Hash perfect_root(const Hash* leaves, std::uint64_t n) {
  if (n == 1) return leaves[0];
  std::vector<Hash> level(leaves, leaves + n);
  while (level.size() > 1) {
    for (std::size_t i = 0; i < level.size() / 2; ++i) level[i] = node_hash(level[2 * i], level[2 * i + 1]);
    level.resize(level.size() / 2);
  }
  return level[0];
}

}  // namespace

bool Tree::append(const Hash& leaf) {
  ++size_;
  if (base_ == 0) {
    push_complete(leaf);
    return true;
  }
  tail_.push_back(leaf);
  if (tail_.size() < chunk_size()) return false;
  push_complete(perfect_root(tail_.data(), tail_.size()));
  tail_.clear();
  return true;
}

void Tree::append_chunk(const Hash& chunk_root) {
  if (!tail_.empty()) throw std::logic_error("merkle::Tree::append_chunk with a partial chunk held");
  size_ += chunk_size();
  push_complete(chunk_root);
}

const std::vector<Hash>& Tree::chunk_leaves(std::uint64_t index, Lookup& lookup, std::uint64_t& first) const {
  first = index >> base_ << base_;
  if (first == complete_chunks() << base_) return tail_;
  for (const auto& c : lookup.chunks) {
    if (c.first == first) return c.leaves;
  }
  auto fetched = source_(first, chunk_size());
  if (fetched && fetched->size() != chunk_size()) {
    fetched = Error::internal("merkle: the leaf source answered " + std::to_string(fetched->size()) +
                              " leaves for a chunk of " + std::to_string(chunk_size()));
  }
  if (!fetched) {
    if (lookup.status) lookup.status = std::move(fetched).error();
    fetched = std::vector<Hash>(chunk_size());  // zeros: the proof is thrown away
  }
  lookup.chunks.push_back({first, std::move(*fetched)});
  return lookup.chunks.back().leaves;
}

Hash Tree::subtree(std::uint64_t begin, std::uint64_t end, Lookup& lookup) const {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const unsigned h = static_cast<unsigned>(std::countr_zero(n));
    if (h >= base_) return levels_[h - base_][begin >> h];
    std::uint64_t first = 0;
    const auto& leaves = chunk_leaves(begin, lookup, first);
    return perfect_root(leaves.data() + (begin - first), n);
  }
  const std::uint64_t k = split(n);
  return node_hash(subtree(begin, begin + k, lookup), subtree(begin + k, end, lookup));
}

Result<Hash> Tree::root(std::uint64_t size) const {
  if (size > this->size()) return invalid("tree_size: the log holds " + std::to_string(this->size()) + " events");
  if (size == 0) return empty_root();
  Lookup lookup;
  Hash out = subtree(0, size, lookup);
  if (!lookup.status) return std::move(lookup.status).error();
  return out;
}

Result<Hash> Tree::leaf(std::uint64_t index) const {
  if (index >= size()) return invalid("seq: the log holds " + std::to_string(size()) + " events");
  Lookup lookup;
  std::uint64_t first = 0;
  Hash out = base_ == 0 ? levels_[0][index] : chunk_leaves(index, lookup, first)[index - first];
  if (!lookup.status) return std::move(lookup.status).error();
  return out;
}

void Tree::path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash>& out,
                Lookup& lookup) const {
  if (end - begin == 1) return;
  const std::uint64_t k = split(end - begin);
  if (index < begin + k) {
    path(index, begin, begin + k, out, lookup);
    out.push_back(subtree(begin + k, end, lookup));
  } else {
    path(index, begin + k, end, out, lookup);
    out.push_back(subtree(begin, begin + k, lookup));
  }
}

Result<std::vector<Hash>> Tree::inclusion_path(std::uint64_t index, std::uint64_t size) const {
  if (size > this->size()) return invalid("tree_size: the log holds " + std::to_string(this->size()) + " events");
  if (index >= size) return invalid("seq: not within the first " + std::to_string(size) + " events");
  std::vector<Hash> out;
  Lookup lookup;
  path(index, 0, size, out, lookup);
  if (!lookup.status) return std::move(lookup.status).error();
  return out;
}

void Tree::subproof(std::uint64_t first, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash>& out,
                    Lookup& lookup) const {
  const std::uint64_t n = end - begin;
  if (first == n) {
    if (!whole) out.push_back(subtree(begin, end, lookup));
    return;
  }
  const std::uint64_t k = split(n);
  if (first <= k) {
    subproof(first, begin, begin + k, whole, out, lookup);
    out.push_back(subtree(begin + k, end, lookup));
  } else {
    subproof(first - k, begin + k, end, false, out, lookup);
    out.push_back(subtree(begin, begin + k, lookup));
  }
}

Result<std::vector<Hash>> Tree::consistency_path(std::uint64_t first, std::uint64_t second) const {
  if (second > size()) return invalid("to: the log holds " + std::to_string(size()) + " events");
  if (first == 0) return invalid("from: must be at least 1");
  if (first > second) return invalid("from: must not be greater than to");
  std::vector<Hash> out;
  Lookup lookup;
  subproof(first, 0, second, true, out, lookup);
  if (!lookup.status) return std::move(lookup.status).error();
  return out;
}

Result<Hash> root_from_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                                 const std::vector<Hash>& path) {
  if (index >= size) return invalid("leaf_index: not below tree_size");
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : path) {
    if (sn == 0) return invalid("inclusion_path: longer than the tree is high");
    if ((fn & 1) == 1 || fn == sn) {
      r = node_hash(p, r);
      shift_while_even(fn, sn);
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return invalid("inclusion_path: shorter than the tree is high");
  return r;
}

Status verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                          const std::vector<Hash>& path) {
  if (first > second) return invalid("first: greater than second");
  if (first == second) {
    if (!path.empty()) return invalid("consistency_path: not empty for trees of one size");
    if (first_root != second_root) return invalid("root_hash: the roots of trees of one size differ");
    return {};
  }
  if (first == 0) {
    if (!path.empty()) return invalid("consistency_path: not empty for the empty tree");
    return {};
  }
  if (path.empty()) return invalid("consistency_path: empty");
  std::vector<Hash> nodes;
  if (std::has_single_bit(first)) nodes.push_back(first_root);
  nodes.insert(nodes.end(), path.begin(), path.end());
  std::uint64_t fn = first - 1, sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = nodes[0], sr = nodes[0];
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    if (sn == 0) return invalid("consistency_path: longer than the trees need");
    if ((fn & 1) == 1 || fn == sn) {
      fr = node_hash(nodes[i], fr);
      sr = node_hash(nodes[i], sr);
      shift_while_even(fn, sn);
    } else {
      sr = node_hash(sr, nodes[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return invalid("consistency_path: shorter than the trees need");
  if (fr != first_root) return invalid("consistency_path: does not lead to the first root");
  if (sr != second_root) return invalid("consistency_path: does not lead to the second root");
  return {};
}

}  // namespace tl::merkle
