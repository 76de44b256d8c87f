// RFC 9162 §2.1 (eventstore/merkle): roots, inclusion and consistency proofs against the test
// vectors of the transparency-dev Merkle reference (github.com/transparency-dev/merkle,
// proof/verify_test.go: eight leaves, the roots of each size, proofs); RFC 9162 itself has no hash
// vectors. Then every proof of trees up to 70 leaves against a plain recursive MTH, and proofs
// with one bit flipped, a component removed or added, or the wrong sizes refused.
#include "eventstore/merkle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "common/hex.hpp"

namespace tl::merkle {
namespace {

std::string bytes_of(std::string_view hex_text) {
  const auto bytes = from_hex(hex_text).value();
  return {bytes.begin(), bytes.end()};
}

Hash h(std::string_view hex_text) {
  const std::string bytes = bytes_of(hex_text);
  Hash out{};
  EXPECT_EQ(bytes.size(), out.size());
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// The reference's leaves (leaf data, hashed as RFC 9162 leaves) and the root of each size 1..8.
const std::vector<std::string> kLeaves = {bytes_of(""),
                                          bytes_of("00"),
                                          bytes_of("10"),
                                          bytes_of("2021"),
                                          bytes_of("3031"),
                                          bytes_of("40414243"),
                                          bytes_of("5051525354555657"),
                                          bytes_of("606162636465666768696a6b6c6d6e6f")};
const std::vector<Hash> kRoots = {
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
};

Tree reference_tree() {
  Tree tree;
  for (const std::string& leaf : kLeaves) tree.append(leaf_hash(leaf));
  return tree;
}

TEST(MerkleTest, RootsOfTheReferenceTree) {
  const Tree tree = reference_tree();
  EXPECT_EQ(tree.root(0).value(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  for (std::uint64_t size = 1; size <= 8; ++size) EXPECT_EQ(tree.root(size).value(), kRoots[size - 1]) << size;
  EXPECT_EQ(tree.root(9).error().code, ErrorCode::invalid_field);
}

struct InclusionVector {
  std::uint64_t index, size;
  std::vector<Hash> path;
};

TEST(MerkleTest, InclusionProofsOfTheReference) {
  const std::vector<InclusionVector> vectors = {
      {0, 1, {}},
      {0,
       8,
       {h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {5,
       8,
       {h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2, 3, {h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}},
      {1,
       5,
       {h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
  };
  const Tree tree = reference_tree();
  for (const InclusionVector& v : vectors) {
    EXPECT_EQ(tree.inclusion_path(v.index, v.size).value(), v.path) << v.index << " of " << v.size;
    const Hash leaf = leaf_hash(kLeaves[v.index]);
    EXPECT_EQ(root_from_inclusion(v.index, v.size, leaf, v.path).value(), kRoots[v.size - 1]);
  }
}

struct ConsistencyVector {
  std::uint64_t first, second;
  std::vector<Hash> path;
};

TEST(MerkleTest, ConsistencyProofsOfTheReference) {
  const std::vector<ConsistencyVector> vectors = {
      {1, 1, {}},
      {1,
       8,
       {h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {6,
       8,
       {h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2,
       5,
       {h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
      {6,
       7,
       {h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
  };
  const Tree tree = reference_tree();
  for (const ConsistencyVector& v : vectors) {
    EXPECT_EQ(tree.consistency_path(v.first, v.second).value(), v.path) << v.first << " to " << v.second;
    EXPECT_TRUE(verify_consistency(v.first, v.second, kRoots[v.first - 1], kRoots[v.second - 1], v.path).ok());
  }
}

// MTH(D[begin:end)) by §2.1.1's definition, leaf by leaf.
Hash plain_root(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  if (end - begin == 1) return leaves[begin];
  std::size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return node_hash(plain_root(leaves, begin, begin + k), plain_root(leaves, begin + k, end));
}

TEST(MerkleTest, EveryProofOfTreesUpTo70LeavesChecksAndNoAlteredOneDoes) {
  std::vector<Hash> leaves;
  Tree tree;
  for (int i = 0; i < 70; ++i) {
    leaves.push_back(leaf_hash("record " + std::to_string(i)));
    tree.append(leaves.back());
  }
  const Hash other = leaf_hash("another");
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    const Hash root = plain_root(leaves, 0, size);
    ASSERT_EQ(tree.root(size).value(), root) << size;
    for (std::uint64_t index = 0; index < size; ++index) {
      const auto path = tree.inclusion_path(index, size).value();
      ASSERT_EQ(root_from_inclusion(index, size, leaves[index], path).value(), root) << index << " of " << size;
      for (std::size_t i = 0; i < path.size(); ++i) {
        auto flipped = path;
        flipped[i][0] ^= 8;
        EXPECT_NE(root_from_inclusion(index, size, leaves[index], flipped).value(), root);
      }
      if (!path.empty()) {
        auto shorter = path;
        shorter.pop_back();
        const auto from_shorter = root_from_inclusion(index, size, leaves[index], shorter);
        EXPECT_TRUE(!from_shorter || *from_shorter != root);
      }
      auto longer = path;
      longer.push_back(other);
      EXPECT_FALSE(root_from_inclusion(index, size, leaves[index], longer).ok());
      EXPECT_NE(root_from_inclusion(index, size, other, path).value(), root);
    }
    for (std::uint64_t first = 1; first < size; ++first) {
      const Hash first_root = plain_root(leaves, 0, first);
      const auto path = tree.consistency_path(first, size).value();
      ASSERT_TRUE(verify_consistency(first, size, first_root, root, path).ok()) << first << " to " << size;
      for (std::size_t i = 0; i < path.size(); ++i) {
        auto flipped = path;
        flipped[i][0] ^= 16;
        EXPECT_FALSE(verify_consistency(first, size, first_root, root, flipped).ok());
      }
      EXPECT_FALSE(verify_consistency(first, size, root, first_root, path).ok()) << "swapped roots";
      EXPECT_FALSE(verify_consistency(first, size, first_root, root, {}).ok()) << "empty proof";
      if (first + 1 < size) {
        EXPECT_FALSE(verify_consistency(first + 1, size, first_root, root, path).ok()) << "wrong first size";
      }
    }
  }
}

TEST(MerkleTest, BadSizesAreRefusedNamingTheParameter) {
  const Tree tree = reference_tree();
  EXPECT_NE(tree.inclusion_path(8, 8).error().message.find("seq"), std::string::npos);
  EXPECT_NE(tree.inclusion_path(0, 9).error().message.find("tree_size"), std::string::npos);
  EXPECT_NE(tree.consistency_path(5, 4).error().message.find("from"), std::string::npos);
  EXPECT_NE(tree.consistency_path(0, 4).error().message.find("from"), std::string::npos);
  EXPECT_NE(tree.consistency_path(1, 9).error().message.find("to"), std::string::npos);
  EXPECT_FALSE(root_from_inclusion(3, 3, kRoots[0], {}).ok());
  EXPECT_TRUE(verify_consistency(0, 5, empty_root(), kRoots[4], {}).ok());
  EXPECT_FALSE(verify_consistency(3, 3, kRoots[2], kRoots[3], {}).ok());
}

// A tree that keeps only the levels from 2^3 up (and the last chunk's leaves) answers every root
// and proof as the tree that keeps every leaf does, reading a complete chunk's leaves from its
// source only when a subtree inside it is needed; a source that fails fails the proof.
TEST(MerkleTest, ATreeKeepingOnlyUpperLevelsAnswersAsTheFullTree) {
  std::vector<Hash> leaves;
  std::atomic<int> reads{0};
  Tree full;
  Tree compact(3, [&](std::uint64_t first, std::uint64_t count) -> Result<std::vector<Hash>> {
    ++reads;
    EXPECT_EQ(first % 8, 0u);
    EXPECT_EQ(count, 8u);
    return std::vector<Hash>(leaves.begin() + static_cast<std::ptrdiff_t>(first),
                             leaves.begin() + static_cast<std::ptrdiff_t>(first + count));
  });
  for (int i = 0; i < 75; ++i) {
    leaves.push_back(leaf_hash("record " + std::to_string(i)));
    full.append(leaves.back());
    EXPECT_EQ(compact.append(leaves.back()), (i + 1) % 8 == 0) << i;
  }
  EXPECT_EQ(compact.complete_chunks(), 9u);
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    ASSERT_EQ(compact.root(size).value(), full.root(size).value()) << size;
    for (std::uint64_t index = 0; index < size; ++index) {
      ASSERT_EQ(compact.inclusion_path(index, size).value(), full.inclusion_path(index, size).value());
      ASSERT_EQ(compact.leaf(index).value(), leaves[index]);
    }
    for (std::uint64_t first = 1; first <= size; ++first) {
      ASSERT_EQ(compact.consistency_path(first, size).value(), full.consistency_path(first, size).value());
    }
  }
  EXPECT_GT(reads.load(), 0);
  // Roots of whole chunks need no leaf: sizes that are multiples of 8 read nothing.
  reads = 0;
  for (std::uint64_t size = 8; size <= 72; size += 8) compact.root(size).value();
  EXPECT_EQ(reads.load(), 0);

  // Loaded from saved chunk roots, then the tail appended: the same tree.
  Tree loaded(3, [&](std::uint64_t first, std::uint64_t count) -> Result<std::vector<Hash>> {
    return std::vector<Hash>(leaves.begin() + static_cast<std::ptrdiff_t>(first),
                             leaves.begin() + static_cast<std::ptrdiff_t>(first + count));
  });
  for (std::uint64_t c = 0; c < compact.complete_chunks(); ++c) loaded.append_chunk(compact.chunk_root(c));
  for (std::size_t i = 72; i < leaves.size(); ++i) loaded.append(leaves[i]);
  EXPECT_EQ(loaded.size(), leaves.size());
  EXPECT_EQ(loaded.root(75).value(), full.root(75).value());
  EXPECT_EQ(loaded.inclusion_path(3, 75).value(), full.inclusion_path(3, 75).value());

  Tree failing(3, [](std::uint64_t, std::uint64_t) -> Result<std::vector<Hash>> {
    return Error::unavailable("the log cannot be read");
  });
  for (const Hash& leaf : leaves) failing.append(leaf);
  EXPECT_EQ(failing.inclusion_path(3, 75).error().code, ErrorCode::unavailable);
  EXPECT_EQ(failing.root(70).error().code, ErrorCode::unavailable);  // inside chunk [64, 72)
  EXPECT_TRUE(failing.root(75).ok());                                // whole chunks and the tail in memory
  EXPECT_TRUE(failing.root(72).ok());                                // whole chunks only
  EXPECT_EQ(failing.leaf(74).value(), leaves[74]);                   // the tail is in memory
}

}  // namespace
}  // namespace tl::merkle
