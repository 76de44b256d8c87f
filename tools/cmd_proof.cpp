// proof verify: checks a receipt (GET /api/v1/audit/receipts/{seq}) offline, with nothing but the
// receipt and the log's public key: the checkpoint's Ed25519 signature (c2sp.org/signed-note),
// the inclusion proof of the event's leaf up to the checkpoint's root (RFC 9162 §2.1.3.2), and,
// when the receipt carries the stored record (auditors'), that the record hashes to its leaf.
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "eventstore/chain_link.hpp"
#include "eventstore/tree_heads.hpp"
#include "projections/merkle_index.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"

namespace tl::admin {
namespace {

struct Receipt {
  std::string text;  // the receipt as read
  std::uint64_t seq = 0;
  std::string record_hash;
  std::string leaf_hash;
  std::string event_type;
  std::optional<std::string> record;
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  std::string root_hash;
  std::vector<merkle::Hash> path;
  std::string checkpoint;
};

std::optional<merkle::Hash> hash_of_hex(std::string_view text) {
  auto bytes = from_hex(text);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  merkle::Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::string read_file_text(const std::string& path, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(option + ": cannot read " + path, ErrorKind::cannot_open);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first key an object of `e` holds twice ("" when none): readers differ on which one counts
// (simdjson takes the first, jq and Python the last), so a receipt with one proves nothing.
std::string repeated_key(simdjson::dom::element e) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (!e.get(object)) {
    std::set<std::string_view> seen;
    for (auto [key, value] : object) {
      if (!seen.insert(key).second) return std::string(key);
      if (auto inner = repeated_key(value); !inner.empty()) return inner;
    }
  } else if (!e.get(array)) {
    for (simdjson::dom::element item : array) {
      if (auto inner = repeated_key(item); !inner.empty()) return inner;
    }
  }
  return "";
}

Receipt parse_receipt(const std::string& text) {
  auto fail = [](const std::string& what) { throw Failure("--receipt: " + what, ErrorKind::check_failed); };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) fail("not JSON");
  if (const std::string key = repeated_key(doc); !key.empty()) fail("the key \"" + key + "\" is given twice");
  Receipt r;
  r.text = text;
  std::string_view record_hash, leaf_hash, root_hash, checkpoint, type, record;
  if (doc["seq"].get(r.seq) || doc["record_hash"].get(record_hash) || doc["leaf_hash"].get(leaf_hash)) {
    fail("seq, record_hash or leaf_hash missing");
  }
  r.record_hash = record_hash, r.leaf_hash = leaf_hash;
  if (!doc["event"]["type"].get(type)) r.event_type = type;
  simdjson::dom::element record_element;
  if (!doc["record"].get(record_element) && !record_element.is_null()) {
    if (record_element.get(record)) fail("record: not a string (the stored line)");
    r.record = std::string(record);
  } else if (r.event_type != "TokenCreated") {
    // Only a creation's receipt for its owner goes without the stored line (it holds the code's
    // ciphertext); any other receipt without it would prove nothing of the event it shows.
    fail("record: missing (only a token creation's receipt, for its owner, goes without it)");
  }
  simdjson::dom::element proof;
  simdjson::dom::array path;
  if (doc["inclusion_proof"].get(proof) || proof["leaf_index"].get(r.leaf_index) ||
      proof["tree_size"].get(r.tree_size) || proof["root_hash"].get(root_hash) || proof["inclusion_path"].get(path)) {
    fail("inclusion_proof lacks leaf_index, tree_size, root_hash or inclusion_path");
  }
  r.root_hash = root_hash;
  for (simdjson::dom::element item : path) {
    std::string_view hex;
    if (item.get(hex)) fail("inclusion_path holds a non-string");
    auto h = hash_of_hex(hex);
    if (!h) fail("inclusion_path holds something that is not 64 hex digits");
    r.path.push_back(*h);
  }
  if (doc["checkpoint"].get(checkpoint)) fail("checkpoint missing");
  r.checkpoint = checkpoint;
  return r;
}

// What differs between the event shown and the stored record, "" when nothing: every member of
// the record must be shown as stored (the view adds token_description and leaves out a
// creation's code_lookup and code_sealed). Both go through one serializer, so escapes compare.
std::string view_mismatch(const std::string& receipt_text, const std::string& record_text) {
  simdjson::dom::parser receipt_parser, record_parser;
  simdjson::dom::element receipt, stored;
  simdjson::dom::object view, stored_object;
  if (receipt_parser.parse(receipt_text).get(receipt) || receipt["event"].get(view)) return "event: missing";
  if (record_parser.parse(record_text).get(stored) || stored.get(stored_object)) return "record: not a JSON object";
  auto differs = [](simdjson::dom::element a, simdjson::simdjson_result<simdjson::dom::element> b) {
    simdjson::dom::element shown;
    return b.get(shown) != simdjson::SUCCESS || simdjson::minify(a) != simdjson::minify(shown);
  };
  for (auto [key, value] : stored_object) {
    if (key != "data") {
      if (differs(value, view[key])) return "event: " + std::string(key) + " is not the stored record's";
      continue;
    }
    simdjson::dom::object data;
    if (value.get(data)) return "record: data is not an object";
    for (auto [name, field] : data) {
      if (name == "code_lookup" || name == "code_sealed") continue;
      if (differs(field, view["data"][name])) return "event: data." + std::string(name) + " is not the stored record's";
    }
  }
  // And the other way: nothing shown that the record does not hold, but the description the view adds.
  for (auto [key, value] : view) {
    if (key == "token_description") continue;
    if (key == "data") {
      simdjson::dom::object data;
      if (value.get(data)) return "event: data is not an object";
      for (auto [name, field] : data) {
        if (differs(field, stored_object["data"][name])) {
          return "event: data." + std::string(name) + " is not in the stored record";
        }
      }
    } else if (differs(value, stored_object[key])) {
      return "event: " + std::string(key) + " is not in the stored record";
    }
  }
  return "";
}

Ed25519PublicKey public_key_arg(const std::string& given) {
  std::string text = given;
  const bool all_hex = !given.empty() && given.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (all_hex && given.size() != 64 && !std::filesystem::exists(given)) {
    throw UsageError("--public-key: " + std::to_string(given.size()) +
                     " hex digits; an Ed25519 public key is 64 (or give a file holding them)");
  }
  if (text.size() != 64) {  // not the hex itself: a file holding it
    text = read_file_text(given, "--public-key");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  }
  auto bytes = from_hex(text);
  if (!bytes || bytes->size() != 32) {
    throw UsageError(
        "--public-key: 64 hex digits (the Ed25519 public key GET /api/v1/audit/checkpoints names), or a "
        "file holding them");
  }
  Ed25519PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

// Every check, in order; throws Failure (check_failed) naming the first that does not hold.
TreeHead check_receipt(const Receipt& r, const Ed25519PublicKey& key) {
  auto failed = [](const std::string& what) { throw Failure(what, ErrorKind::check_failed); };
  auto head = parse_tree_head(r.checkpoint);
  if (!head) failed(head.error().message);
  if (!head->origin.starts_with("tokenledger/")) failed("checkpoint: the origin is not a tokenledger log's");
  if (!tree_head_signed_by(*head, head->origin, key)) {
    failed("checkpoint: no valid signature by the given public key (key name " + head->origin + ")");
  }
  if (r.tree_size != head->size) failed("inclusion_proof: tree_size is not the checkpoint's size");
  const auto root = hash_of_hex(r.root_hash);
  if (!root || *root != head->root) failed("inclusion_proof: root_hash is not the checkpoint's root");
  if (r.seq == 0 || r.leaf_index != r.seq - 1) failed("inclusion_proof: leaf_index is not seq - 1");
  if (!hash_of_hex(r.record_hash)) failed("record_hash: not 64 hex digits");
  const merkle::Hash leaf = record_leaf_hash(r.record_hash);  // 64 hex digits: checked above
  if (hash_of_hex(r.leaf_hash) != leaf) failed("leaf_hash: not SHA-256(0x00 || record_hash)");
  auto led_to = merkle::root_from_inclusion(r.leaf_index, r.tree_size, leaf, r.path);
  if (!led_to) failed(led_to.error().message);
  if (*led_to != head->root) failed("inclusion_path: does not lead from the leaf to the checkpoint's root");
  if (r.record) {
    const CheckedRecord checked = check_record_bytes(*r.record);
    if (!checked.record) failed("record: " + checked.problem);
    if (checked.record->hash != r.record_hash || checked.record->seq != r.seq) {
      failed("record: its seq or hash is not the receipt's");
    }
    if (const std::string problem = view_mismatch(r.text, *r.record); !problem.empty()) failed(problem);
  }
  return std::move(*head);
}

int proof_verify(int argc, char** argv) {
  std::string receipt_file, public_key;
  bool json = false;
  Command cmd("proof verify", "--receipt FILE --public-key HEX|FILE [--json]",
              "Checks a receipt saved from GET /api/v1/audit/receipts/{seq} without the server or the\n"
              "database: the checkpoint (a C2SP signed note) is signed by --public-key, the inclusion\n"
              "proof leads from the event's leaf, SHA-256(0x00 || record_hash), to the checkpoint's root\n"
              "(RFC 9162 §2.1.3.2), and an auditor's receipt's stored record hashes to record_hash.\n"
              "Exit status 0: the event is in the log the key signed; 1: a check failed (named).");
  cmd.json_option(json);
  cmd.options()("receipt", po::value(&receipt_file)->value_name("FILE"), "the receipt (JSON)")(
      "public-key", po::value(&public_key)->value_name("HEX|FILE"), "the log's Ed25519 public key");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (receipt_file.empty()) throw UsageError("--receipt: required");
  if (public_key.empty()) throw UsageError("--public-key: required");
  const Ed25519PublicKey key = public_key_arg(public_key);
  const Receipt receipt = parse_receipt(read_file_text(receipt_file, "--receipt"));
  const TreeHead head = check_receipt(receipt, key);
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(true).key("seq").value(receipt.seq);
    // The type only when the stored record proved the event shown.
    if (receipt.record) w.key("type").value(receipt.event_type);
    w.key("event_proven")
        .value(receipt.record.has_value())
        .key("origin")
        .value(head.origin)
        .key("tree_size")
        .value(head.size);
    std::cout << std::move(w.end_object()).str() << "\n";
  } else {
    if (receipt.record) {
      std::cout << "OK: event " << receipt.seq << " (" << receipt.event_type << ") is in the log " << head.origin
                << " of " << head.size << " events, as signed by the given key; the event shown is its stored "
                << "record, which hashes to its leaf\n";
    } else {
      std::cout << "OK: the record hash of event " << receipt.seq << " is in the log " << head.origin << " of "
                << head.size << " events, as signed by the given key; the receipt holds no stored record (a "
                << "token's creation, shown to its owner), so only its record_hash is proven, not the event shown\n";
    }
  }
  return kExitOk;
}

}  // namespace

int cmd_proof(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "verify") return proof_verify(argc - 1, argv + 1);
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::cout << "Usage: tokenledger-admin proof verify --receipt FILE --public-key HEX|FILE [--json]\n"
                 "  (tokenledger-admin proof verify --help for the details)\n";
    return kExitOk;
  }
  throw UsageError("say what to do: proof verify");
}

}  // namespace tl::admin
