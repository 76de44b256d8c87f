// verify: walks the hash chain of the database (read-only, beside a running server) and checks
// its signed checkpoints, or checks an export without the database (verify_file.cpp).
#include <iostream>

#include "eventstore/json_writer.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"
#include "tools/raw_log.hpp"
#include "tools/store_access.hpp"
#include "tools/verify_file.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Proves that the audit trail is complete and unaltered.\n\n"
    "With --data (the default), walks the event log of a data directory from seq 1: every\n"
    "seq is present, every record's bytes match its SHA-256 hash, every prev_hash links to the\n"
    "record before, and every stream version points at its record. Then checks the signed\n"
    "checkpoints (Ed25519, each naming the one before): each signature, and that the log still\n"
    "holds the very hash each one signed, so even a rewrite of the whole log with recomputed\n"
    "hashes, or records cut from its end, is caught. The signatures are checked against\n"
    "--public-key, else the key of DIR/signing.key. Opens the database read-only, so it works\n"
    "while the server is running.\n\n"
    "With --file, checks an export written by `tokenledger-admin audit --format jsonl` (or\n"
    "GET /api/v1/audit/export?format=jsonl) without the database: each line's own hash and the\n"
    "prev_hash link wherever two lines have consecutive seq. An export is taken to be complete\n"
    "(--complete, the default): every record from seq 1 without a gap (a missing seq is named),\n"
    "each stream's versions continuous (1, 2, 3 …), and, with --checkpoints, reaching every saved\n"
    "signed checkpoint (an export that ends before one fails: records were cut from its end).\n"
    "An export of a filtered query is checked as a subset, whose gaps cannot be checked without\n"
    "the database, only with --filtered or when its manifest names a filter. --checkpoints checks\n"
    "saved signed checkpoints (from `tokenledger-admin checkpoints --format jsonl` or\n"
    "GET /api/v1/audit/checkpoints) and the records of the file they signed. --manifest checks\n"
    "the manifest saved beside the export (GET /api/v1/audit/export/manifest or `audit\n"
    "--manifest F`): the record count, first and last seq; for an unfiltered export the head\n"
    "(last seq and hash); and its signed checkpoint (with --public-key, else the key it names)\n"
    "and, for an unfiltered export, the record it signed. The output lists the checks that ran.\n\n"
    "Exit status: 0 verified, 1 a record or checkpoint is bad (the first one is named), 2 bad usage.";

struct Checkpoints {
  CheckpointReport report;
  TrustedKey key;
  std::uint64_t last_seq = 0;
};

int verify_data(const std::string& dir, const std::string& public_key, bool json) {
  const DataDir data{dir};
  VerifyReport report;
  std::optional<Checkpoints> signatures;
  std::string note;
  try {
    auto store = open_store(data, Access::read_only, /*log_only=*/true);
    Progress progress("verifying", store->head().seq);
    report = store->verify([&](std::uint64_t n) { progress.update(n); });
    progress.finish();
    signatures.emplace();
    signatures->key = trusted_key(public_key, data.signing_key());
    signatures->report = verify_checkpoints(*store, signatures->key.hex);
    if (auto list = list_checkpoints(*store); list && !list->empty()) signatures->last_seq = list->back().seq;
  } catch (const Failure& e) {
    auto raw = verify_raw(data.db());
    if (!raw || raw->ok) throw;
    report = std::move(*raw);
    note = std::string("the event store would not open (") + e.what() + "); the records were checked directly";
  }
  const bool ok = report.ok && signatures && signatures->report.ok;

  if (json) {  // the shape of GET /api/v1/audit/verify, plus data and note
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("data").value(dir).key("events").value(report.events);
    w.key("head").begin_object().key("seq").value(report.head.seq).key("hash").value(report.head.hash).end_object();
    if (!report.ok) w.key("first_bad_seq").value(report.first_bad_seq).key("problem").value(report.problem);
    if (signatures) {
      const CheckpointReport& c = signatures->report;
      w.key("checkpoints").begin_object().key("ok").value(c.ok).key("count").value(c.checkpoints);
      w.key("public_key").value(signatures->key.hex);
      if (!c.ok) w.key("first_bad_seq").value(c.first_bad_seq).key("problem").value(c.problem);
      w.end_object();
    }
    if (!note.empty()) w.key("note").value(note);
    std::cout << std::move(w.end_object()).str() << "\n";
    return ok ? kExitOk : kExitFinding;
  }

  if (!report.ok) {
    std::cout << "FAILED: the event log in " << dir << " does not verify.\n"
              << "  first bad seq  " << report.first_bad_seq << "\n"
              << "  problem        " << report.problem << "\n"
              << "  good before it " << report.events << " events (last good hash " << report.head.hash << ")\n";
    if (!note.empty()) std::cout << "  note           " << note << "\n";
  } else if (!signatures->report.ok) {
    std::cout << "FAILED: the event log in " << dir << " does not match its signed checkpoints.\n"
              << "  checkpoint seq " << signatures->report.first_bad_seq << "\n"
              << "  problem        " << signatures->report.problem << "\n"
              << "  public key     " << (signatures->key.hex.empty() ? "-" : signatures->key.hex) << " ("
              << signatures->key.source << ")\n";
  } else {
    std::cout << "OK: the event log in " << dir << " verifies (every record from seq 1 checked).\n"
              << "  events       " << report.events << "\n"
              << "  head seq     " << report.head.seq << "\n"
              << "  head hash    " << report.head.hash << "\n";
    const auto count = signatures->report.checkpoints;
    if (count == 0) {
      std::cout << "  checkpoints  none signed yet (the server signs the head periodically and at shutdown)\n";
    } else {
      std::cout << "  checkpoints  " << count << " signed checkpoints verified, the last at seq "
                << signatures->last_seq << "\n  public key   "
                << (signatures->key.hex.empty() ? "-" : signatures->key.hex) << " (" << signatures->key.source << ")\n";
    }
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace

int cmd_verify(int argc, char** argv) {
  std::string data, public_key;
  VerifyFileOptions file;
  bool json = false;
  Command cmd("verify",
              "[--data DIR | --file EXPORT.jsonl [--checkpoints FILE] [--manifest FILE] [--complete | --filtered]]"
              " [--public-key HEX] [--json]",
              kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("file", po::value(&file.path)->value_name("EXPORT.jsonl"),
                "check an exported JSON Lines file instead of the database")(
      "checkpoints", po::value(&file.checkpoints_path)->value_name("FILE"),
      "with --file: signed checkpoints saved beside the export")(
      "manifest", po::value(&file.manifest_path)->value_name("FILE"),
      "with --file: the export's manifest (counts, head, signed checkpoint; says whether it was filtered)")(
      "complete", po::bool_switch(&file.complete_given),
      "with --file: the whole chain from seq 1 (the default; kept for scripts)")(
      "filtered", po::bool_switch(&file.filtered),
      "with --file: an export of a filtered query, checked as a subset")(
      "public-key", po::value(&public_key)->value_name("HEX"),
      "check checkpoint signatures against this Ed25519 public key (64 hex digits)");
  cmd.epilog(
      "Examples:\n"
      "  tokenledger-admin verify --data /var/lib/tokenledger\n"
      "  tokenledger-admin audit --data /var/lib/tokenledger --format jsonl > trail.jsonl\n"
      "  tokenledger-admin checkpoints --data /var/lib/tokenledger --format jsonl > checkpoints.jsonl\n"
      "  tokenledger-admin verify --file trail.jsonl --checkpoints checkpoints.jsonl --public-key HEX\n"
      "  tokenledger-admin verify --file alice.jsonl --filtered");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (cmd.given("file")) {
    if (cmd.given("data")) throw UsageError("--data and --file exclude each other: check the database or a file");
    file.public_key = public_key;
    file.json = json;
    return verify_file(file);
  }
  for (const char* option : {"complete", "filtered", "manifest"}) {
    if (cmd.given(option)) throw UsageError(std::string("--") + option + " goes with --file");
  }
  if (cmd.given("checkpoints"))
    throw UsageError("--checkpoints goes with --file (with --data they are in the database)");
  return verify_data(data, public_key, json);
}

}  // namespace tl::admin
