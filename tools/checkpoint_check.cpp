#include "tools/checkpoint_check.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/hex.hpp"
#include "eventstore/chain_link.hpp"
#include "tools/cli.hpp"

namespace tl::admin {
namespace {

// Each checkpoint object of `text`, minified: the elements of "checkpoints" in the document of
// GET /api/v1/audit/checkpoints, or every JSON document of a JSON Lines file (one per line, or
// reformatted over several by a JSON tool). parse_checkpoint rebuilds the signed bytes, so the
// layout does not matter.
std::vector<std::string> checkpoint_objects(const std::string& text, const std::string& path) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  std::vector<std::string> objects;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return objects;  // no checkpoints yet
  // One batch for the whole file: a document longer than the batch would not parse.
  const std::size_t batch = std::max<std::size_t>(text.size(), simdjson::dom::DEFAULT_BATCH_SIZE);
  simdjson::dom::document_stream docs;
  if (parser.parse_many(padded, batch).get(docs) != simdjson::SUCCESS) throw Failure(path + " is not JSON");
  std::size_t n = 0;
  for (auto doc : docs) {
    ++n;
    simdjson::dom::element e;
    if (doc.get(e) != simdjson::SUCCESS) {
      throw Failure(path + ": document " + std::to_string(n) + " is not JSON: " + simdjson::error_message(doc.error()));
    }
    simdjson::dom::array list;
    if (e.is_object() && e["checkpoints"].get_array().get(list) == simdjson::SUCCESS) {  // the HTTP document
      for (auto c : list) objects.push_back(simdjson::minify(c));
    } else if (e.is_object() && e["checkpoints"].error() != simdjson::NO_SUCH_FIELD) {
      throw Failure(path + " is not the checkpoints document of the HTTP API (\"checkpoints\" is not an array)");
    } else {
      objects.push_back(simdjson::minify(e));
    }
  }
  return objects;
}

}  // namespace

std::string public_key_of(const std::string& signing_key_file) {
  std::error_code ec;
  if (!std::filesystem::exists(signing_key_file, ec)) return {};
  auto signer = CheckpointSigner::load_or_create(signing_key_file);  // exists: only loads
  if (!signer) throw Failure("cannot read the signing key " + signing_key_file + ": " + signer.error().message);
  return (*signer)->public_key_hex();
}

TrustedKey trusted_key(const std::string& given, const std::string& signing_key_file) {
  if (!given.empty()) {
    const auto key = from_hex(given);
    if (!key || key->size() != crypto_sign_PUBLICKEYBYTES) {
      throw UsageError("--public-key: 64 hex digits (an Ed25519 public key)");
    }
    return {given, "--public-key"};
  }
  if (auto key = public_key_of(signing_key_file); !key.empty()) return {key, signing_key_file};
  return {"", "the key each checkpoint names (pass --public-key to check against a key you hold)"};
}

std::vector<SignedCheckpoint> read_checkpoints_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path + ": no such file or no permission", ErrorKind::cannot_open);
  std::ostringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const std::vector<std::string> raws = checkpoint_objects(text, path);
  std::vector<SignedCheckpoint> checkpoints;
  for (std::size_t i = 0; i < raws.size(); ++i) {
    auto c = parse_checkpoint(raws[i]);
    if (!c) throw Failure(path + ": checkpoint " + std::to_string(i + 1) + " cannot be read: " + c.error().message);
    checkpoints.push_back(std::move(c).value());
  }
  return checkpoints;
}

OfflineCheckpoints::OfflineCheckpoints(std::vector<SignedCheckpoint> checkpoints, const TrustedKey& key)
    : checkpoints_(std::move(checkpoints)) {
  const SignedCheckpoint* before = nullptr;
  for (const auto& c : checkpoints_) {
    if (!checkpoint_signature_trusted(c, key.hex)) {
      fail(c.seq, "the checkpoint's signature does not verify with the public key");
      return;
    }
    if (c.prev != checkpoint_prev_after(before)) {
      fail(c.seq, "the checkpoint does not name the one before it (one is missing)");
      return;
    }
    before = &c;
    by_seq_[c.seq] = c.hash;
  }
}

bool OfflineCheckpoints::fail(std::uint64_t seq, std::string problem) {
  ok_ = false;
  bad_seq_ = seq;
  problem_ = std::move(problem);
  return false;
}

bool OfflineCheckpoints::see(std::uint64_t seq, const std::string& hash) {
  if (!ok_) return false;
  last_seq_ = seq;
  // Checkpoints the export skipped over (a filtered export's gaps).
  while (!by_seq_.empty() && by_seq_.begin()->first < seq) {
    ++missing_;
    by_seq_.erase(by_seq_.begin());
  }
  auto it = by_seq_.find(seq);
  if (it == by_seq_.end()) return true;
  if (it->second != hash) return fail(seq, "the export's record at this seq is not the one that was signed");
  ++matched_;
  by_seq_.erase(it);
  return true;
}

void OfflineCheckpoints::finish() {
  if (!ok_) return;
  beyond_ = by_seq_.size();
  if (!by_seq_.empty()) {
    first_beyond_ = by_seq_.begin()->first;
    newest_beyond_ = by_seq_.rbegin()->first;
  }
  by_seq_.clear();
}

}  // namespace tl::admin
