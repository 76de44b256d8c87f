// verify: walks the hash chain of the database (read-only, beside a running server) and checks
// its signed checkpoints, or checks an export without the database (verify_file.cpp).
#include <iostream>

#include "eventstore/signed_checkpoints.hpp"
#include "service/integrity.hpp"
#include "service/verify_report.hpp"
#include "service/witness.hpp"
#include "tools/backup_over_http.hpp"
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
    "With --data (the default), checks a data directory against its own log: the head the\n"
    "appender last wrote is the last record (no cut of the tail); every signed checkpoint (Ed25519,\n"
    "each naming the one before) verifies, and the log reaches it and holds the very hash it\n"
    "signed, so a rewrite with recomputed hashes or a cut below it is caught; the same for each\n"
    "checkpoint in the --witness file, which also catches a cut after the newest checkpoint the\n"
    "database holds; the projection checkpoint is not ahead of the log; then, from seq 1, every\n"
    "seq is present, every record's bytes match its SHA-256 hash and decode, every prev_hash links\n"
    "to the record before; and the streams and audit indexes hold exactly the entries the records\n"
    "imply (--quick skips this cross-check). The first problem is named with its seq and kind.\n"
    "Signatures are checked against --public-key, else the key of DIR/signing.key: whoever holds\n"
    "the data directory may hold that key too, so pin the key you kept. Opens the database\n"
    "read-only, so it works while the server is running.\n\n"
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
    "With --backup, checks a backup (tokenledger-admin backup, POST /api/v1/admin/backups): the\n"
    "checksums of its files, then a copy restored into a temporary directory with the full check\n"
    "of --data, and that the copy holds the head the backup recorded.\n\n"
    "Exit status: 0 verified, 1 a record or checkpoint is bad (the first one is named), 2 bad usage.";

struct DataCheck {
  IntegrityReport report;
  TrustedKey key;
  std::string note;
  bool indexes = true;
};

DataCheck check_data(const std::string& dir, const std::string& public_key, const std::string& witness, bool quick) {
  const DataDir data{dir};
  DataCheck out;
  out.indexes = !quick;
  try {
    // With the read model's families: the audit index and the projection checkpoint are checked too.
    auto store = open_store(data, Access::read_only);
    out.key = trusted_key(public_key, data.signing_key());
    IntegrityOptions options;
    options.indexes = !quick;
    if (!witness.empty()) {
      auto witnessed = read_witness_file(witness, /*missing_ok=*/false);
      if (!witnessed) throw UsageError(witnessed.error().message);
      options.witnessed = std::move(*witnessed);
      // The witness carries the key it saw: it pins the key unless --public-key does, so that a
      // signing.key replaced in DIR cannot vouch for checkpoints signed again with it.
      if (public_key.empty() && !options.witnessed.empty()) {
        out.key = {options.witnessed.front().public_key, "the witness file " + witness};
      }
    }
    options.trusted_public_key = out.key.hex;
    Progress progress("verifying", store->head().seq);
    options.progress = [&](std::uint64_t n) { progress.update(n); };
    out.report = check_integrity(*store, options);
    progress.finish();
  } catch (const Failure& e) {
    auto raw = verify_raw(data.db());
    if (!raw || raw->ok) throw;
    out.report.ok = false;
    out.report.chain = *raw;
    out.report.first_bad_seq = raw->first_bad_seq;
    out.report.kind = raw->kind.empty() ? "chain" : raw->kind;
    out.report.problem = raw->problem;
    out.note = std::string("the event store would not open (") + e.what() + "); the records were checked directly";
  }
  return out;
}

int verify_data(const std::string& dir, const std::string& public_key, const std::string& witness, bool quick,
                bool json) {
  const DataCheck c = check_data(dir, public_key, witness, quick);
  const IntegrityReport& r = c.report;
  if (json) {  // the shape of GET /api/v1/audit/verify, plus data and note
    std::vector<std::pair<std::string_view, std::string_view>> extra = {{"data", dir}};
    if (!c.note.empty()) extra.emplace_back("note", c.note);
    std::string text = integrity_report_json(r, c.key.hex, c.indexes, extra);
    if (!r.ok) {  // still one object: the report, with the error of every --json failure added
      text = with_error(std::move(text), ErrorKind::check_failed,
                        "the event log in " + dir + " does not verify: first bad seq " +
                            std::to_string(r.first_bad_seq) + " (" + r.kind + ": " + r.problem + ")");
    }
    std::cout << text << "\n";
    return r.ok ? kExitOk : kExitFinding;
  }
  if (!r.ok) {
    const bool signatures = r.kind == "checkpoint" || r.kind == "witness";
    std::cout << "FAILED: the event log in " << dir
              << (r.kind == "checkpoint" ? " does not match its signed checkpoints.\n"
                  : r.kind == "witness"  ? " does not match the checkpoints its witness saw.\n"
                                         : " does not verify.\n");
    if (signatures) std::cout << "  checkpoint seq " << r.first_bad_seq << "\n";
    std::cout << "  first bad seq  " << r.first_bad_seq << "\n"
              << "  kind           " << r.kind << "\n"
              << "  problem        " << r.problem << "\n";
    if (r.chain.events > 0 && !signatures) {
      std::cout << "  good before it " << r.chain.events << " events (last good hash " << r.chain.head.hash << ")\n";
    }
    if (signatures) {
      std::cout << "  public key     " << (c.key.hex.empty() ? "-" : c.key.hex) << " (" << c.key.source << ")\n";
    }
    if (!c.note.empty()) std::cout << "  note           " << c.note << "\n";
    return kExitFinding;
  }
  std::cout << "OK: the event log in " << dir << " verifies (every record from seq 1 checked).\n"
            << "  events       " << r.chain.events << "\n"
            << "  head seq     " << r.chain.head.seq << "\n"
            << "  head hash    " << r.chain.head.hash << "\n";
  if (c.indexes) {
    std::cout << "  indexes      exact: " << r.stream_entries << " stream entries, " << r.audit_entries
              << " audit index entries, none past the head\n";
  } else {
    std::cout << "  indexes      not cross-checked (--quick)\n";
  }
  if (r.checkpoints == 0) {
    std::cout << "  checkpoints  none signed yet (the server signs the head at start, periodically and at shutdown)\n";
  } else {
    std::cout << "  checkpoints  " << r.checkpoints << " signed checkpoints verified, the last at seq "
              << r.last_checkpoint_seq << "; the log reaches and matches each\n"
              << "  public key   " << (c.key.hex.empty() ? "-" : c.key.hex) << " (" << c.key.source << ")\n";
  }
  if (!witness.empty())
    std::cout << "  witness      " << r.witnessed << " witnessed checkpoints matched (" << witness << ")\n";
  return kExitOk;
}

}  // namespace

int cmd_verify(int argc, char** argv) {
  std::string data, public_key, witness;
  bool quick = false;
  VerifyFileOptions file;
  bool json = false;
  Command cmd("verify",
              "[--data DIR | --file EXPORT.jsonl [--checkpoints FILE] [--manifest FILE] [--complete | --filtered]]"
              " [--public-key HEX] [--json]\n"
              "       tokenledger-admin verify --backup BACKUP_DIR [--backup-id N] [--scratch DIR] [--public-key HEX]",
              kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("witness", po::value(&witness)->value_name("FILE"),
                "with --data: the checkpoints a witness received (--witness-file of the server); the log must "
                "reach and match each, and without --public-key the key the witness names is pinned")(
      "quick", po::bool_switch(&quick),
      "with --data: skip the entry-by-entry cross-check of the stream and audit indexes");
  cmd.options()("file", po::value(&file.path)->value_name("EXPORT.jsonl"),
                "check an exported JSON Lines file instead of the database")(
      "checkpoints", po::value(&file.checkpoints_path)->value_name("FILE"),
      "with --file: signed checkpoints saved beside the export")(
      "manifest", po::value(&file.manifest_path)->value_name("FILE"),
      "with --file: the export's manifest (counts, head, signed checkpoint; says whether it was filtered)")(
      "complete", po::bool_switch(&file.complete_given),
      "with --file: the whole chain from seq 1 (the default; kept for scripts)")(
      "filtered", po::bool_switch(&file.filtered), "with --file: an export of a filtered query, checked as a subset")(
      "public-key", po::value(&public_key)->value_name("HEX"),
      "check checkpoint signatures against this Ed25519 public key (64 hex digits)");
  std::string backup, scratch;
  std::uint32_t backup_id = 0;
  cmd.options()("backup", po::value(&backup)->value_name("BACKUP_DIR"),
                "check a backup instead: its checksums, then a restored copy (in a temporary directory) with the "
                "full check of --data, and that it holds the head the backup recorded")(
      "backup-id", po::value(&backup_id)->value_name("N"), "with --backup: which backup (default: the newest)")(
      "scratch", po::value(&scratch)->value_name("DIR"),
      "with --backup: where the temporary copy goes (default: the system's temporary directory)");
  cmd.epilog(
      "Examples:\n"
      "  tokenledger-admin verify --data /var/lib/tokenledger\n"
      "  tokenledger-admin audit --data /var/lib/tokenledger --format jsonl > trail.jsonl\n"
      "  tokenledger-admin checkpoints --data /var/lib/tokenledger --format jsonl > checkpoints.jsonl\n"
      "  tokenledger-admin verify --file trail.jsonl --checkpoints checkpoints.jsonl --public-key HEX\n"
      "  tokenledger-admin verify --file alice.jsonl --filtered");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (cmd.given("backup")) {
    if (cmd.given("data") || cmd.given("file")) throw UsageError("--backup goes without --data and --file");
    return verify_backup(backup, cmd.given("backup-id") ? std::optional(backup_id) : std::nullopt, public_key, scratch,
                         json);
  }
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
  if (!witness.empty() && cmd.given("file")) throw UsageError("--witness goes with --data");
  return verify_data(data, public_key, witness, quick, json);
}

}  // namespace tl::admin
