// witness: an auditor-run witness of a running server's log (c2sp.org/tlog-witness's idea, over
// tokenledger's API). Each run fetches the newest signed tree head (a C2SP checkpoint), checks its
// signature with the log's key, checks that it extends the one this witness saw before (an RFC
// 9162 consistency proof from the server, verified here), cosigns it (c2sp.org/tlog-cosignature,
// cosignature/v1, with the witness's own Ed25519 key) and posts the cosignature back. It
// remembers what it saw in a state file of its own: a rewrite or a split view of the log then
// needs the witness's key too. It refuses to cosign what does not extend what it saw (exit 1).
#include <simdjson.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "eventstore/token_secrets.hpp"
#include "eventstore/tree_heads.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/server_session.hpp"

namespace tl::admin {
namespace {

// What the witness saw last: the log it follows (origin and key) and its newest consistent head.
struct WitnessState {
  std::string origin;
  std::string log_key;  // hex
  std::uint64_t tree_size = 0;
  std::string root_hash;  // hex
};

std::optional<WitnessState> read_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    throw UsageError("--state: cannot read " + path, ErrorKind::cannot_open);
  }
  std::ostringstream text;
  text << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  WitnessState s;
  std::string_view origin, key, root;
  if (parser.parse(text.str()).get(doc) || doc["origin"].get(origin) || doc["log_public_key"].get(key) ||
      doc["tree_size"].get(s.tree_size) || doc["root_hash"].get(root)) {
    throw Failure("--state: " + path + " is not a witness state (origin, log_public_key, tree_size, root_hash)",
                  ErrorKind::check_failed);
  }
  s.origin = origin, s.log_key = key, s.root_hash = root;
  return s;
}

// Written whole to a temporary file and renamed over the old one: a crash leaves one or the other.
void write_state(const std::string& path, const WitnessState& s) {
  JsonWriter w;
  w.begin_object()
      .key("origin")
      .value(s.origin)
      .key("log_public_key")
      .value(s.log_key)
      .key("tree_size")
      .value(s.tree_size)
      .key("root_hash")
      .value(s.root_hash)
      .end_object();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << std::move(w).str() << "\n";
    out.flush();
    if (!out) throw Failure("--state: cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Failure("--state: cannot replace " + path + ": " + ec.message());
}

Ed25519PublicKey key_of_hex(std::string_view hex_text, const std::string& what) {
  auto bytes = from_hex(hex_text);
  if (!bytes || bytes->size() != 32) throw UsageError(what + ": 64 hex digits (an Ed25519 public key)");
  Ed25519PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::string hex_of(const merkle::Hash& h) { return to_hex(h.data(), h.size()); }

std::vector<merkle::Hash> hashes_of(simdjson::dom::array array) {
  std::vector<merkle::Hash> out;
  for (simdjson::dom::element item : array) {
    std::string_view text;
    auto bytes = item.get(text) ? std::nullopt : from_hex(text);
    if (!bytes || bytes->size() != 32) throw Failure("the server's consistency_path holds something not a hash");
    merkle::Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    out.push_back(h);
  }
  return out;
}

// The newest tree head the server lists, and the log's public key it names.
std::pair<TreeHead, std::string> newest_head(const ServerSession& session) {
  const ClientResponse res = session.send("GET", "/api/v1/audit/checkpoints");
  if (res.status != 200) throw Failure("the checkpoints: " + server_message(res), refusal(res));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array heads;
  std::string_view key, note;
  if (parser.parse(res.body).get(doc) || doc["public_key"].get(key) || doc["tree_heads"].get(heads)) {
    throw Failure("the server's checkpoints list no tree_heads (a server before RFC 9162 proofs?)");
  }
  if (heads.size() == 0) throw Failure("the server has signed no tree head yet: try again after its next checkpoint");
  if (heads.at(heads.size() - 1)["checkpoint"].get(note)) throw Failure("a tree head without its checkpoint");
  auto head = parse_tree_head(note);
  if (!head) throw Failure(head.error().message, ErrorKind::check_failed);
  return {std::move(*head), std::string(key)};
}

// Checks that `head` extends what `state` saw; throws Failure (check_failed) saying why not.
void check_consistent(const ServerSession& session, const WitnessState& state, const TreeHead& head) {
  const auto refused = [](const std::string& why) {
    throw Failure("refusing to cosign: " + why, ErrorKind::check_failed);
  };
  if (head.origin != state.origin) refused("the origin is " + head.origin + ", not " + state.origin);
  const auto seen_root = from_hex(state.root_hash);
  if (!seen_root || seen_root->size() != 32) refused("the state's root_hash is not a SHA-256 hash");
  merkle::Hash old_root;
  std::copy(seen_root->begin(), seen_root->end(), old_root.begin());
  if (head.size < state.tree_size) {
    refused("the newest tree head (" + std::to_string(head.size) + " events) is smaller than the one seen before (" +
            std::to_string(state.tree_size) + "): the log was cut or rolled back");
  }
  if (head.size == state.tree_size) {
    if (head.root != old_root)
      refused("the tree of " + std::to_string(head.size) + " events has another root than before");
    return;
  }
  const ClientResponse res =
      session.send("GET", "/api/v1/audit/proof/consistency?from=" + std::to_string(state.tree_size) +
                              "&to=" + std::to_string(head.size));
  if (res.status != 200) throw Failure("the consistency proof: " + server_message(res), refusal(res));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array path;
  if (parser.parse(res.body).get(doc) || doc["consistency_path"].get(path)) {
    throw Failure("the server's consistency proof is not one");
  }
  auto consistent = merkle::verify_consistency(state.tree_size, head.size, old_root, head.root, hashes_of(path));
  if (!consistent) {
    refused("the tree head of " + std::to_string(head.size) + " events does not extend the one of " +
            std::to_string(state.tree_size) + " seen before (" + consistent.error().message + ")");
  }
}

}  // namespace

int cmd_witness(int argc, char** argv) {
  std::string state_file, url, key_file, user, name, log_key_hex, ca_file;
  bool json = false;
  Command cmd("witness", "--state FILE --url URL --key FILE --user NAME [--name N] [--log-key HEX] [--json]",
              "Witnesses a running server's log: fetches its newest signed tree head, checks the log's\n"
              "signature on it and that it extends the one this witness saw before (an RFC 9162\n"
              "consistency proof), cosigns it with the witness's Ed25519 key (C2SP cosignature/v1) and\n"
              "posts the cosignature (POST /api/v1/audit/cosignatures; the user must be an auditor, the\n"
              "password is read from standard input). Run it from another machine, e.g. hourly.\n\n"
              "--state FILE keeps what it saw (origin, log key, tree size, root); the first run trusts the\n"
              "log key the server names unless --log-key pins it. --key FILE is the witness's own key\n"
              "(32 random bytes, created mode 0600 when missing; keep it off the server's machine).\n"
              "Exit 0: cosigned; 1: refused (inconsistent, another log or key) or the server refused.");
  cmd.json_option(json);
  cmd.options()("state", po::value(&state_file)->value_name("FILE"), "what the witness saw last")(
      "url", po::value(&url)->value_name("URL"), "the server (http:// or https://)")(
      "key", po::value(&key_file)->value_name("FILE"), "the witness's Ed25519 key (created when missing)")(
      "user", po::value(&user)->value_name("NAME"), "an auditor to sign in as")(
      "name", po::value(&name)->value_name("N"), "the witness's key name [tokenledger-witness/<host name>]")(
      "log-key", po::value(&log_key_hex)->value_name("HEX"), "the log's Ed25519 public key, pinned")(
      "cacert", po::value(&ca_file)->value_name("FILE"), "with https://: trust the PEM certificate(s) in FILE");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (state_file.empty()) throw UsageError("--state: required");
  if (url.empty()) throw UsageError("--url: required");
  if (key_file.empty()) throw UsageError("--key: required");
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = "tokenledger-witness/" + std::string(host[0] != '\0' ? host : "localhost");
  }
  if (name.find_first_of(" +\n") != std::string::npos) throw UsageError("--name: no spaces, '+' or newlines");
  const std::optional<WitnessState> seen = read_state(state_file);
  auto seed = load_or_create_key_file(key_file);
  if (!seed) throw UsageError("--key: " + seed.error().message, ErrorKind::cannot_open);
  Ed25519PublicKey witness_key;
  std::array<unsigned char, 64> secret;
  crypto_sign_seed_keypair(witness_key.data(), secret.data(), seed->data());
  sodium_memzero(seed->data(), seed->size());

  const ServerSession session(url, user, ca_file);
  auto [head, served_key] = newest_head(session);
  // The log's key: pinned by --log-key, else the one the state holds, else (the first run) the served one.
  const std::string log_key = !log_key_hex.empty() ? log_key_hex : seen ? seen->log_key : served_key;
  if (seen && log_key != seen->log_key) {
    throw Failure("refusing to cosign: --log-key is not the key this witness followed", ErrorKind::check_failed);
  }
  if (!tree_head_signed_by(head, head.origin, key_of_hex(log_key, "--log-key"))) {
    throw Failure("refusing to cosign: the tree head is not signed by the log's key " + log_key,
                  ErrorKind::check_failed);
  }
  if (seen) check_consistent(session, *seen, head);

  const auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::string line = cosignature_line(head, name, witness_key, secret, now);
  sodium_memzero(secret.data(), secret.size());
  line.pop_back();  // the newline
  JsonWriter body;
  body.begin_object()
      .key("tree_size")
      .value(head.size)
      .key("cosignature")
      .value(line)
      .key("public_key")
      .value(to_hex(witness_key.data(), witness_key.size()))
      .end_object();
  const ClientResponse posted = session.send("POST", "/api/v1/audit/cosignatures", std::move(body).str());
  if (posted.status != 201) throw Failure("the cosignature: " + server_message(posted), refusal(posted));
  write_state(state_file, {head.origin, log_key, head.size, hex_of(head.root)});

  if (json) {
    JsonWriter w;
    w.begin_object()
        .key("cosigned")
        .value(true)
        .key("origin")
        .value(head.origin)
        .key("tree_size")
        .value(head.size)
        .key("root_hash")
        .value(hex_of(head.root))
        .key("previous_tree_size")
        .value(seen ? seen->tree_size : 0)
        .key("witness")
        .value(name)
        .key("witness_public_key")
        .value(to_hex(witness_key.data(), witness_key.size()))
        .end_object();
    std::cout << std::move(w).str() << "\n";
  } else {
    std::cout << "Cosigned the tree head of " << head.size << " events of " << head.origin
              << (seen ? ", consistent with the " + std::to_string(seen->tree_size) + " seen before"
                       : " (the first seen: its log key is now pinned in the state)")
              << ", as " << name << " (public key " << to_hex(witness_key.data(), witness_key.size()) << ").\n";
  }
  return kExitOk;
}

}  // namespace tl::admin
