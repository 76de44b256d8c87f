#include "eventstore/merkle.hpp"

#include <sodium.h>

#include <bit>
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

void Tree::append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  // Each level whose count became even completes one subtree a level up.
  for (std::size_t h = 0; levels_[h].size() % 2 == 0; ++h) {
    if (levels_.size() == h + 1) levels_.emplace_back();
    const auto& level = levels_[h];
    levels_[h + 1].push_back(node_hash(level[level.size() - 2], level.back()));
  }
}

Hash Tree::subtree(std::uint64_t begin, std::uint64_t end) const {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const int h = std::countr_zero(n);
    return levels_[static_cast<std::size_t>(h)][begin >> h];
  }
  const std::uint64_t k = split(n);
  return node_hash(subtree(begin, begin + k), subtree(begin + k, end));
}

Result<Hash> Tree::root(std::uint64_t size) const {
  if (size > this->size()) return invalid("tree_size: the log holds " + std::to_string(this->size()) + " events");
  if (size == 0) return empty_root();
  return subtree(0, size);
}

void Tree::path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash>& out) const {
  if (end - begin == 1) return;
  const std::uint64_t k = split(end - begin);
  if (index < begin + k) {
    path(index, begin, begin + k, out);
    out.push_back(subtree(begin + k, end));
  } else {
    path(index, begin + k, end, out);
    out.push_back(subtree(begin, begin + k));
  }
}

Result<std::vector<Hash>> Tree::inclusion_path(std::uint64_t index, std::uint64_t size) const {
  if (size > this->size()) return invalid("tree_size: the log holds " + std::to_string(this->size()) + " events");
  if (index >= size) return invalid("seq: not within the first " + std::to_string(size) + " events");
  std::vector<Hash> out;
  path(index, 0, size, out);
  return out;
}

void Tree::subproof(std::uint64_t first, std::uint64_t begin, std::uint64_t end, bool whole,
                    std::vector<Hash>& out) const {
  const std::uint64_t n = end - begin;
  if (first == n) {
    if (!whole) out.push_back(subtree(begin, end));
    return;
  }
  const std::uint64_t k = split(n);
  if (first <= k) {
    subproof(first, begin, begin + k, whole, out);
    out.push_back(subtree(begin + k, end));
  } else {
    subproof(first - k, begin + k, end, false, out);
    out.push_back(subtree(begin, begin + k));
  }
}

Result<std::vector<Hash>> Tree::consistency_path(std::uint64_t first, std::uint64_t second) const {
  if (second > size()) return invalid("to: the log holds " + std::to_string(size()) + " events");
  if (first == 0) return invalid("from: must be at least 1");
  if (first > second) return invalid("from: must not be greater than to");
  std::vector<Hash> out;
  subproof(first, 0, second, true, out);
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
