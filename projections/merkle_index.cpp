#include "projections/merkle_index.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/hex.hpp"
#include "eventstore/tree_heads.hpp"
#include "projections/read_model.hpp"

namespace tl {
namespace {

std::string chunk_key(std::uint64_t chunk) { return std::string(MerkleIndex::kPrefix) + encode_be64(chunk); }

// The leaf hash of a record's hash, nullopt when it is not 64 hex digits (a damaged record: the
// fold stops before it, as before a missing one).
std::optional<merkle::Hash> leaf_of(std::string_view record_hash_hex) {
  const auto bytes = from_hex(record_hash_hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  return merkle::leaf_hash({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
}

Error log_unreadable(const Error& e) { return Error::unavailable("the Merkle tree: " + e.message); }

// Damage the integrity checks name too; the tree stops before it.
Error bad_hash(std::uint64_t seq) {
  return Error::internal("the Merkle tree: the hash of record " + std::to_string(seq) +
                         " is not 64 hex digits; run tokenledger-admin verify");
}

}  // namespace

merkle::Hash record_leaf_hash(std::string_view record_hash_hex) {
  const auto leaf = leaf_of(record_hash_hex);
  if (!leaf) throw std::invalid_argument("record_leaf_hash: not 64 hex digits");
  return *leaf;
}

MerkleIndex::MerkleIndex(EventLog& store) : store_(store), tree_(empty_tree()) { store_.subscribe(this); }

merkle::Tree MerkleIndex::empty_tree() const {
  return merkle::Tree(kBaseLevel,
                      [this](std::uint64_t first, std::uint64_t count) { return read_leaves(first, count); });
}

Result<std::vector<merkle::Hash>> MerkleIndex::read_leaves(std::uint64_t first, std::uint64_t count) const {
  std::vector<merkle::Hash> out;
  out.reserve(count);
  std::uint64_t damaged = 0;
  auto read = store_.read_range(first + 1, first + count, [&](const Record& r) {
    const auto leaf = leaf_of(r.hash);
    if (!leaf) damaged = r.seq;
    if (leaf) out.push_back(*leaf);
    return leaf.has_value();
  });
  if (!read) return log_unreadable(read.error());
  if (damaged != 0) return bad_hash(damaged);
  if (out.size() != count) return Error::internal("the Merkle tree: records are missing from the log");
  return out;
}

void MerkleIndex::append_leaf(const merkle::Hash& leaf, StateBatch* batch) const {
  if (!tree_.append(leaf) || batch == nullptr) return;
  const std::uint64_t chunk = tree_.complete_chunks() - 1;
  const merkle::Hash& root = tree_.chunk_root(chunk);
  batch->put(ReadModel::kStateFamily, chunk_key(chunk),
             std::string_view(reinterpret_cast<const char*>(root.data()), root.size()));
}

Status MerkleIndex::fold_from_log(std::uint64_t to, const std::function<void(std::uint64_t)>& progress) const {
  if (tree_.size() >= to) return {};
  auto batch = store_.read_only() ? nullptr : store_.state().new_batch();
  std::uint64_t count = 0;
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  Status written;  // the saved roots: a cache, a start without them folds the log again
  Status damage;   // a record the tree cannot take: it stops before it
  auto folded = store_.read_range_parallel(
      tree_.size() + 1, to,
      [&](const Record& r) {
        // The walk is in seq order: another seq means a record is missing; stop there.
        if (r.seq != tree_.size() + 1) return false;
        const auto leaf = leaf_of(r.hash);
        if (!leaf) {
          damage = bad_hash(r.seq);
          return false;
        }
        append_leaf(*leaf, batch.get());
        ++count;
        if (progress && count % 100000 == 0) progress(count);
        // Chunk roots are written a few thousand at a time, not one batch per fold.
        if (batch && written && count % 65536 == 0) {
          written = store_.state().write(*batch);
          batch->clear();
        }
        return true;
      },
      RecordFields::all, threads);
  if (!folded) return log_unreadable(folded.error());
  if (batch && written) written = store_.state().write(*batch);
  if (!written) spdlog::warn("Merkle tree chunks not saved: {}", written.error().message);
  if (!damage) return damage;
  if (tree_.size() < to) {
    return Error::internal("the Merkle tree: record " + std::to_string(tree_.size() + 1) +
                           " is missing from the log; run tokenledger-admin verify");
  }
  return {};
}

Status MerkleIndex::load(const std::function<void(std::uint64_t)>& progress) {
  std::unique_lock lock(mutex_);
  const std::uint64_t head = store_.head().seq;
  if (tree_.size() > 0) return fold_from_log(head, progress);  // a commit came first and folded from seq 1
  const std::uint64_t usable = head / tree_.chunk_size();      // chunks the log covers
  std::uint64_t loaded = 0;
  auto scanned = store_.state().scan(
      ReadModel::kStateFamily, {.prefix = kPrefix, .sequential = true},
      [&](std::string_view key, std::string_view value) {
        if (loaded >= usable || value.size() != 32 || decode_be64(key.substr(kPrefix.size())) != loaded) {
          return false;  // a gap, or past the log: fold the rest
        }
        merkle::Hash root;
        std::copy(value.begin(), value.end(), root.begin());
        tree_.append_chunk(root);
        ++loaded;
        return true;
      });
  if (!scanned) return log_unreadable(scanned.error());
  if (auto folded = fold_from_log(head, progress); !folded) return folded;
  spdlog::info("Merkle tree loaded: {} saved chunks of {} events, folded {} newer events", loaded, tree_.chunk_size(),
               tree_.size() - loaded * tree_.chunk_size());
  return check_signed_head(progress);
}

Status MerkleIndex::check_signed_head(const std::function<void(std::uint64_t)>& progress) {
  auto signed_head = newest_tree_head(store_);
  if (!signed_head) return log_unreadable(signed_head.error());
  if (!*signed_head || (*signed_head)->size > tree_.size()) return {};
  const TreeHead& expected = **signed_head;
  auto root = tree_.root(expected.size);
  if (!root) return std::move(root).error();
  if (*root == expected.root) return {};
  // The saved chunks are a cache of what the records give: fold them again from the records.
  spdlog::error(
      "the saved Merkle tree disagrees with the signed tree head of size {}: folding it again from the log's records",
      expected.size);
  if (!store_.read_only()) {
    std::string end(kPrefix);
    end.back() += 1;
    if (auto erased = store_.state().erase_range(ReadModel::kStateFamily, kPrefix, end); !erased) {
      return log_unreadable(erased.error());
    }
  }
  tree_ = empty_tree();
  if (auto folded = fold_from_log(store_.head().seq, progress); !folded) return folded;
  root = tree_.root(expected.size);
  if (!root) return std::move(root).error();
  if (*root != expected.root) {
    // The records themselves differ from what was signed: the chain and checkpoint checks say where.
    spdlog::error("the log's records disagree with the signed tree head of size {}: run tokenledger-admin verify",
                  expected.size);
  }
  return {};
}

void MerkleIndex::on_committed(std::span<const Record> records) {
  if (records.empty()) return;
  std::unique_lock lock(mutex_);
  if (records.front().seq > tree_.size() + 1) {
    // Records this node was not told of (folded before load, or a follower's gap): read them.
    if (auto caught = fold_from_log(records.front().seq - 1, {}); !caught) {
      spdlog::error("{}", caught.error().message);
      return;  // the next proof or batch tries again
    }
  }
  const std::uint64_t chunks_before = tree_.complete_chunks();
  for (const Record& r : records) {
    if (r.seq != tree_.size() + 1) continue;
    const auto leaf = leaf_of(r.hash);
    if (!leaf) {
      spdlog::error("{}", bad_hash(r.seq).message);
      break;
    }
    append_leaf(*leaf, nullptr);
  }
  // A state write only when a chunk was finished (one in 64 events), not one per batch.
  if (tree_.complete_chunks() == chunks_before || store_.read_only()) return;
  auto batch = store_.state().new_batch();
  for (std::uint64_t c = chunks_before; c < tree_.complete_chunks(); ++c) {
    const merkle::Hash& root = tree_.chunk_root(c);
    batch->put(ReadModel::kStateFamily, chunk_key(c),
               std::string_view(reinterpret_cast<const char*>(root.data()), root.size()));
  }
  if (auto written = store_.state().write(*batch); !written) {
    spdlog::warn("Merkle tree chunk not saved: {}", written.error().message);
  }
}

std::uint64_t MerkleIndex::size() const {
  std::shared_lock lock(mutex_);
  return tree_.size();
}

Status MerkleIndex::catch_up(std::uint64_t seq) const {
  {
    std::shared_lock lock(mutex_);
    if (tree_.size() >= seq) return {};
  }
  const std::uint64_t head = store_.head().seq;
  if (seq > head) return {};  // the caller's range check names the parameter
  std::unique_lock lock(mutex_);
  return fold_from_log(seq, {});
}

Result<merkle::Hash> MerkleIndex::root(std::uint64_t tree_size) const {
  if (auto caught = catch_up(tree_size); !caught) return std::move(caught).error();
  std::shared_lock lock(mutex_);
  return tree_.root(tree_size);
}

Result<merkle::Hash> MerkleIndex::leaf_hash(std::uint64_t seq) const {
  if (seq == 0) return Error::invalid_field("seq: must be at least 1");
  if (auto caught = catch_up(seq); !caught) return std::move(caught).error();
  std::shared_lock lock(mutex_);
  return tree_.leaf(seq - 1);
}

Result<InclusionProof> MerkleIndex::inclusion(std::uint64_t seq, std::uint64_t tree_size) const {
  if (seq == 0) return Error::invalid_field("seq: must be at least 1");
  if (seq > tree_size) return Error::invalid_field("seq: beyond tree_size (" + std::to_string(tree_size) + ")");
  if (auto caught = catch_up(tree_size); !caught) return std::move(caught).error();
  std::shared_lock lock(mutex_);
  InclusionProof proof{.leaf_index = seq - 1, .tree_size = tree_size};
  auto path = tree_.inclusion_path(seq - 1, tree_size);
  if (!path) return std::move(path).error();
  auto root = tree_.root(tree_size);
  if (!root) return std::move(root).error();
  auto leaf = tree_.leaf(seq - 1);
  if (!leaf) return std::move(leaf).error();
  proof.path = std::move(*path);
  proof.root_hash = *root;
  proof.leaf_hash = *leaf;
  return proof;
}

Result<ConsistencyProof> MerkleIndex::consistency(std::uint64_t first, std::uint64_t second) const {
  if (auto caught = catch_up(second); !caught) return std::move(caught).error();
  std::shared_lock lock(mutex_);
  auto path = tree_.consistency_path(first, second);
  if (!path) return std::move(path).error();
  auto first_root = tree_.root(first);
  if (!first_root) return std::move(first_root).error();
  auto second_root = tree_.root(second);
  if (!second_root) return std::move(second_root).error();
  return ConsistencyProof{first, second, *first_root, *second_root, std::move(*path)};
}

}  // namespace tl
