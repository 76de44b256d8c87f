// Signed tree heads of the log's RFC 9162 Merkle tree as C2SP checkpoints
// (c2sp.org/tlog-checkpoint), which are signed notes (c2sp.org/signed-note):
//
//   tokenledger/<database id>\n
//   <tree size, decimal>\n
//   <root hash, base64>\n
//   \n
//   — tokenledger/<database id> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>\n
//
// The origin line and the key name are both "tokenledger/<database id>"; the key is the checkpoint
// signing key (eventstore/signed_checkpoints); the key id is SHA-256(name || 0x0A || 0x01 ||
// public key)[:4] and the signature covers the body (the lines before the empty one, each with its
// newline). Witnesses add their own lines (c2sp.org/tlog-cosignature). One is signed with every
// signed checkpoint, at its seq; stored in meta under "treehead/" + be64(size) as the note's text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/merkle.hpp"

namespace tl {

class CheckpointSigner;

using Ed25519PublicKey = std::array<unsigned char, 32>;

// One signature line of a signed note: the key name, the key id and the signature bytes after it
// (64 for a note signature; 8 + 64 for a cosignature/v1: timestamp, then signature).
struct NoteSignature {
  std::string key_name;
  std::array<unsigned char, 4> key_id{};
  std::string signature;  // the bytes after the key id
};

struct TreeHead {
  std::string origin;
  std::uint64_t size = 0;
  merkle::Hash root{};
  std::string body;  // the note's body: the three lines, each ending in \n
  std::vector<NoteSignature> signatures;
  std::string note;  // the whole text: body, empty line, signature lines
};

// "tokenledger/" + database id: the origin and key name of this log's tree heads.
std::string tree_head_origin(std::string_view database_id);
// The checkpoint body: origin, size and base64 root, each line ending in \n.
std::string tree_head_body(std::string_view origin, std::uint64_t size, const merkle::Hash& root);
// SHA-256(name || 0x0A || algorithm || public key)[:4] (c2sp.org/signed-note; 0x01 Ed25519 note
// signatures, 0x04 Ed25519 cosignature/v1).
std::array<unsigned char, 4> note_key_id(std::string_view name, unsigned char algorithm, const Ed25519PublicKey& key);
// "— <name> <base64(key id || signature)>\n".
std::string note_signature_line(std::string_view name, const std::array<unsigned char, 4>& key_id,
                                std::string_view signature);

// One signature line without its newline ("— name base64"). Errors: invalid_field naming what is wrong.
Result<NoteSignature> parse_note_signature(std::string_view line);

// The message a cosigner signs (c2sp.org/tlog-cosignature, cosignature/v1, Ed25519):
// "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint's body.
std::string cosignature_message(std::string_view body, std::uint64_t timestamp);
// A cosignature/v1 line for `head`'s body by `name` with the Ed25519 key pair (`secret`: libsodium's
// 64-byte secret key), made at `timestamp` (seconds since the epoch).
std::string cosignature_line(const TreeHead& head, std::string_view name, const Ed25519PublicKey& key,
                             const std::array<unsigned char, 64>& secret, std::uint64_t timestamp);
// Checks `s` as a cosignature/v1 of `head` by `name` with `key`; returns its timestamp. Errors:
// invalid_field naming what does not hold (the name, the key id, the length, the signature).
Result<std::uint64_t> verify_cosignature(const TreeHead& head, const NoteSignature& s, std::string_view name,
                                         const Ed25519PublicKey& key);

// Parses a checkpoint note (not checking any signature). Errors: invalid_field naming what is wrong.
Result<TreeHead> parse_tree_head(std::string_view note);
// True when `head` carries a line by `key_name` whose key id and Ed25519 signature over the body
// match `key` (c2sp.org/signed-note, algorithm 0x01).
bool tree_head_signed_by(const TreeHead& head, std::string_view key_name, const Ed25519PublicKey& key);

// Signs and stores the tree head of `size` leaves with root `root`, unless one of that size is
// stored already (then returns it). Errors: unavailable when it cannot be stored.
Result<TreeHead> sign_tree_head(EventLog& store, const CheckpointSigner& signer, std::string_view origin,
                                std::uint64_t size, const merkle::Hash& root);
// Every stored tree head, smallest first. Errors: unavailable; internal for a stored note that
// does not parse.
Result<std::vector<TreeHead>> list_tree_heads(const EventLog& store);
// The newest stored tree head, nullopt when none. Errors as list_tree_heads.
Result<std::optional<TreeHead>> newest_tree_head(const EventLog& store);
// Replaces the stored note of the tree head of `head.size` with `head.note` (a cosignature added).
Status store_tree_head(EventLog& store, const TreeHead& head);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tl
