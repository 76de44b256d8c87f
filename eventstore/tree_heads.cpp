#include "eventstore/tree_heads.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>

#include "eventstore/signed_checkpoints.hpp"

namespace tl {
namespace {

constexpr std::string_view kPrefix = "treehead/";
constexpr std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
constexpr unsigned char kEd25519 = 0x01;
constexpr std::size_t kMaxKeyName = 256;

Error bad(std::string message) { return Error::invalid_field("checkpoint: " + std::move(message)); }

// The next line of `text` from `pos` without its \n; nullopt when no \n ends it.
std::optional<std::string_view> next_line(std::string_view text, std::size_t& pos) {
  const auto end = text.find('\n', pos);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(pos, end - pos);
  pos = end + 1;
  return line;
}

}  // namespace

Result<NoteSignature> parse_note_signature(std::string_view line) {
  if (!line.starts_with(kDash)) return bad("a signature line does not start with '— '");
  line.remove_prefix(kDash.size());
  const auto space = line.rfind(' ');
  if (space == std::string_view::npos || space == 0) return bad("a signature line lacks its key name");
  NoteSignature s;
  s.key_name = std::string(line.substr(0, space));
  // c2sp.org/signed-note forbids Unicode spaces and '+'; stricter here, printable ASCII only (no
  // line or paragraph separators, no direction overrides), at most 256 bytes: names are URL-like.
  const bool printable = std::all_of(s.key_name.begin(), s.key_name.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f && c != '+';
  });
  if (!printable || s.key_name.size() > kMaxKeyName) {
    return bad("a key name must be at most 256 printable ASCII characters, without spaces or '+'");
  }
  auto bytes = base64_decode(line.substr(space + 1));
  if (!bytes || bytes->size() < 5) return bad("a signature is not base64 of a key id and a signature");
  std::copy(bytes->begin(), bytes->begin() + 4, s.key_id.begin());
  s.signature = bytes->substr(4);
  return s;
}

namespace {
constexpr unsigned char kCosignatureV1 = 0x04;
}  // namespace

std::string cosignature_message(std::string_view body, std::uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(body);
}

std::string cosignature_line(const TreeHead& head, std::string_view name, const Ed25519PublicKey& key,
                             const std::array<unsigned char, 64>& secret, std::uint64_t timestamp) {
  const std::string message = cosignature_message(head.body, timestamp);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret.data());
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<char>((timestamp >> (56 - 8 * i)) & 0xff);
  bytes.append(reinterpret_cast<const char*>(signature), sizeof signature);
  return note_signature_line(name, note_key_id(name, kCosignatureV1, key), bytes);
}

Result<std::uint64_t> verify_cosignature(const TreeHead& head, const NoteSignature& s, std::string_view name,
                                         const Ed25519PublicKey& key) {
  if (s.key_name != name) return bad("the cosignature's key name is not " + std::string(name));
  if (s.key_id != note_key_id(name, kCosignatureV1, key)) {
    return bad("the cosignature's key id is not that of this name and public key (cosignature/v1)");
  }
  if (s.signature.size() != 8 + crypto_sign_BYTES) return bad("a cosignature/v1 is a timestamp and 64 bytes");
  std::uint64_t timestamp = 0;
  for (int i = 0; i < 8; ++i)
    timestamp = timestamp << 8 | static_cast<unsigned char>(s.signature[static_cast<std::size_t>(i)]);
  if (timestamp > static_cast<std::uint64_t>(INT64_MAX)) return bad("the cosignature's timestamp exceeds 2^63-1");
  const std::string message = cosignature_message(head.body, timestamp);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(s.signature.data() + 8),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                  key.data()) != 0) {
    return bad("the cosignature does not verify with this public key over this tree head");
  }
  return timestamp;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string tree_head_origin(std::string_view database_id) { return "tokenledger/" + std::string(database_id); }

std::string tree_head_body(std::string_view origin, std::uint64_t size, const merkle::Hash& root) {
  return std::string(origin) + "\n" + std::to_string(size) + "\n" +
         base64_encode({reinterpret_cast<const char*>(root.data()), root.size()}) + "\n";
}

std::array<unsigned char, 4> note_key_id(std::string_view name, unsigned char algorithm, const Ed25519PublicKey& key) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(name.data()), name.size());
  const unsigned char between[2] = {'\n', algorithm};
  crypto_hash_sha256_update(&state, between, sizeof between);
  crypto_hash_sha256_update(&state, key.data(), key.size());
  std::array<unsigned char, 32> digest;
  crypto_hash_sha256_final(&state, digest.data());
  return {digest[0], digest[1], digest[2], digest[3]};
}

std::string note_signature_line(std::string_view name, const std::array<unsigned char, 4>& key_id,
                                std::string_view signature) {
  std::string bytes(reinterpret_cast<const char*>(key_id.data()), key_id.size());
  bytes += signature;
  return std::string(kDash) + std::string(name) + " " + base64_encode(bytes) + "\n";
}

Result<TreeHead> parse_tree_head(std::string_view note) {
  TreeHead head;
  std::size_t pos = 0;
  auto origin = next_line(note, pos);
  auto size = next_line(note, pos);
  auto root = next_line(note, pos);
  if (!origin || !size || !root) return bad("fewer than three lines before the signatures");
  if (origin->empty()) return bad("the origin line is empty");
  head.origin = std::string(*origin);
  const auto parsed = std::from_chars(size->data(), size->data() + size->size(), head.size);
  if (size->empty() || parsed.ec != std::errc() || parsed.ptr != size->data() + size->size() ||
      (size->size() > 1 && size->front() == '0')) {
    return bad("the second line is not a tree size in decimal");
  }
  auto root_bytes = base64_decode(*root);
  if (!root_bytes || root_bytes->size() != 32) return bad("the third line is not a base64 SHA-256 root hash");
  std::copy(root_bytes->begin(), root_bytes->end(), head.root.begin());
  // Extension lines may follow (c2sp.org/tlog-checkpoint); the body ends at the empty line.
  while (true) {
    auto line = next_line(note, pos);
    if (!line) return bad("no empty line ends the body");
    if (line->empty()) break;
  }
  head.body = std::string(note.substr(0, pos - 1));
  while (pos < note.size()) {
    auto line = next_line(note, pos);
    if (!line) return bad("the last signature line does not end in a newline");
    auto signature = parse_note_signature(*line);
    if (!signature) return std::move(signature).error();
    head.signatures.push_back(std::move(*signature));
  }
  if (head.signatures.empty()) return bad("no signature line");
  head.note = std::string(note);
  return head;
}

bool tree_head_signed_by(const TreeHead& head, std::string_view key_name, const Ed25519PublicKey& key) {
  const auto id = note_key_id(key_name, kEd25519, key);
  for (const NoteSignature& s : head.signatures) {
    if (s.key_name != key_name || s.key_id != id || s.signature.size() != crypto_sign_BYTES) continue;
    if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(s.signature.data()),
                                    reinterpret_cast<const unsigned char*>(head.body.data()), head.body.size(),
                                    key.data()) == 0) {
      return true;
    }
  }
  return false;
}

Result<TreeHead> sign_tree_head(EventLog& store, const CheckpointSigner& signer, std::string_view origin,
                                std::uint64_t size, const merkle::Hash& root) {
  const std::string key = std::string(kPrefix) + encode_be64(size);
  auto existing = store.get_side(SideStore::meta, key);
  if (!existing) return Error::unavailable("tree head: " + existing.error().message);
  if (*existing) return parse_tree_head(**existing);
  const std::string body = tree_head_body(origin, size, root);
  const auto signature = signer.sign_message(body);
  const std::string note = body + "\n" +
                           note_signature_line(origin, note_key_id(origin, kEd25519, signer.public_key()),
                                               {reinterpret_cast<const char*>(signature.data()), signature.size()});
  if (auto s = store.put_side(SideStore::meta, key, note); !s) {
    return Error::unavailable("cannot store the tree head: " + s.error().message);
  }
  return parse_tree_head(note);
}

Status store_tree_head(EventLog& store, const TreeHead& head) {
  if (auto s = store.put_side(SideStore::meta, std::string(kPrefix) + encode_be64(head.size), head.note); !s) {
    return Error::unavailable("cannot store the tree head: " + s.error().message);
  }
  return {};
}

Result<std::vector<TreeHead>> list_tree_heads(const EventLog& store) {
  std::vector<TreeHead> out;
  Status parsed;
  auto scanned = store.scan_side(
      SideStore::meta,
      [&](std::string_view, std::string_view value) {
        auto head = parse_tree_head(value);
        if (!head) {
          parsed = Error::internal("a stored tree head: " + head.error().message);
          return false;
        }
        out.push_back(std::move(*head));
        return true;
      },
      kPrefix);
  if (!parsed) return std::move(parsed).error();
  if (!scanned) return Error::unavailable("tree heads: " + scanned.error().message);
  return out;
}

Result<std::optional<TreeHead>> newest_tree_head(const EventLog& store) {
  auto last = store.last_key_with_prefix(SideStore::meta, kPrefix);
  if (!last) return Error::unavailable("tree heads: " + last.error().message);
  if (!*last) return std::optional<TreeHead>{};
  auto note = store.get_side(SideStore::meta, **last);
  if (!note) return Error::unavailable("tree heads: " + note.error().message);
  if (!*note) return std::optional<TreeHead>{};
  auto head = parse_tree_head(**note);
  if (!head) return Error::internal("a stored tree head: " + head.error().message);
  return std::optional<TreeHead>(std::move(*head));
}

}  // namespace tl
