#include "eventstore/signed_checkpoints.hpp"

#include <simdjson.h>
#include <sodium.h>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "eventstore/chain_link.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/token_secrets.hpp"

namespace tl {
namespace {

constexpr std::string_view kPrefix = "checkpoint/";
constexpr std::string_view kSignatureKey = R"(,"signature":")";

}  // namespace

Result<std::unique_ptr<CheckpointSigner>> CheckpointSigner::load_or_create(const std::string& path) {
  // The 32-byte seed is the key file; the key pair is derived from it.
  auto seed = load_or_create_key_file(path);
  if (!seed) return std::move(seed).error();
  std::unique_ptr<CheckpointSigner> signer(new CheckpointSigner());
  crypto_sign_seed_keypair(signer->public_.data(), signer->secret_.data(), seed->data());
  sodium_memzero(seed->data(), seed->size());
  return signer;
}

CheckpointSigner::~CheckpointSigner() { sodium_memzero(secret_.data(), secret_.size()); }

std::string CheckpointSigner::public_key_hex() const { return to_hex(public_.data(), public_.size()); }

std::array<unsigned char, 64> CheckpointSigner::sign_message(std::string_view message) const {
  std::array<unsigned char, 64> signature;
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_.data());
  return signature;
}

Result<SignedCheckpoint> CheckpointSigner::sign_head(EventLog& store) {
  std::lock_guard lock(mutex_);
  auto existing = list_checkpoints(store);
  if (!existing) return std::move(existing).error();
  const Head head = store.head();
  if (!existing->empty() && existing->back().seq == head.seq) return existing->back();
  if (head.seq == 0) return Error::invalid_field("The log is empty: there is nothing to sign yet.");

  JsonWriter w;
  w.begin_object()
      .key("seq")
      .value(head.seq)
      .key("hash")
      .value(head.hash)
      .key("at")
      .value(format_rfc3339(now_ms()))
      .key("prev")
      .value(existing->empty() ? kGenesisHash : sha256_hex(existing->back().raw))
      .key("public_key")
      .value(public_key_hex());
  std::string body = std::move(w).str();
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                       secret_.data());
  body += kSignatureKey;
  body += to_hex(signature, sizeof signature);
  body += "\"}";

  if (auto s = store.put_side(SideStore::meta, std::string(kPrefix) + encode_be64(head.seq), body); !s) {
    return Error::unavailable("cannot store the checkpoint: " + s.error().message);
  }
  return parse_checkpoint(body);
}

Result<SignedCheckpoint> parse_checkpoint(std::string_view raw) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(raw);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return Error::invalid_json("a checkpoint is not JSON");
  SignedCheckpoint c;
  std::string_view hash, at, prev, key, signature;
  if (doc["seq"].get(c.seq) || doc["hash"].get(hash) || doc["at"].get(at) || doc["prev"].get(prev) ||
      doc["public_key"].get(key) || doc["signature"].get(signature)) {
    return Error::invalid_json("a checkpoint lacks a field");
  }
  c.hash = hash, c.at = at, c.prev = prev, c.public_key = key, c.signature = signature;
  // The canonical bytes, written as sign_head writes them: the signature and the next
  // checkpoint's prev cover these, so a checkpoint a JSON tool reformatted (jq .) still verifies.
  JsonWriter w;
  w.begin_object()
      .key("seq")
      .value(c.seq)
      .key("hash")
      .value(c.hash)
      .key("at")
      .value(c.at)
      .key("prev")
      .value(c.prev)
      .key("public_key")
      .value(c.public_key)
      .key("signature")
      .value(c.signature);
  c.raw = std::move(w.end_object()).str();
  return c;
}

Result<std::vector<SignedCheckpoint>> list_checkpoints(const EventLog& store) {
  std::vector<SignedCheckpoint> out;
  Status parsed;
  auto scanned = store.scan_side(
      SideStore::meta,
      [&](std::string_view, std::string_view value) {
        auto c = parse_checkpoint(value);
        if (!c) {
          parsed = std::move(c).error();
          return false;
        }
        out.push_back(std::move(c).value());
        return true;
      },
      kPrefix);
  if (!parsed) return std::move(parsed).error();
  if (!scanned) return Error::unavailable("checkpoints: " + scanned.error().message);
  return out;
}

bool checkpoint_signature_valid(const SignedCheckpoint& c, std::string_view public_key_hex) {
  const auto key = from_hex(public_key_hex);
  const auto signature = from_hex(c.signature);
  const auto signed_length = c.raw.rfind(kSignatureKey);
  return key && key->size() == crypto_sign_PUBLICKEYBYTES && signature && signature->size() == crypto_sign_BYTES &&
         signed_length != std::string::npos &&
         crypto_sign_verify_detached(signature->data(), reinterpret_cast<const unsigned char*>(c.raw.data()),
                                     signed_length, key->data()) == 0;
}

CheckpointReport verify_checkpoints(const EventLog& store, std::string_view trusted_public_key_hex) {
  CheckpointReport report;
  auto fail = [&](std::uint64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return report;
  };
  auto checkpoints = list_checkpoints(store);
  if (!checkpoints) return fail(0, checkpoints.error().message);
  const SignedCheckpoint* before = nullptr;
  for (const SignedCheckpoint& c : *checkpoints) {
    // The checkpoint chain's two rules (chain_link.hpp), shared with the admin tool's checks.
    if (!checkpoint_signature_trusted(c, trusted_public_key_hex)) {
      return fail(c.seq, "the checkpoint's signature does not verify with the public key");
    }
    if (c.prev != checkpoint_prev_after(before)) {
      return fail(c.seq, "the checkpoint does not name the one before it (one is missing)");
    }
    before = &c;
    auto record = store.read(c.seq);
    if (!record || !*record) return fail(c.seq, "the log has no record at the checkpoint's seq");
    if ((*record)->hash != c.hash) return fail(c.seq, "the log's hash at this seq is not the one that was signed");
    ++report.checkpoints;
  }
  return report;
}

}  // namespace tl
