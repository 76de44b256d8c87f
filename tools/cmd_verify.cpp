// verify: walks the hash chain of the database (read-only, beside a running server), or
// checks an export written by `audit --format jsonl` without the database.
#include <fstream>
#include <iostream>

#include "eventstore/json_writer.hpp"
#include "tools/chain_check.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"
#include "tools/raw_log.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Proves that the audit trail is complete and unaltered.\n\n"
    "With --data (the default), walks the event log of a data directory from seq 1: every\n"
    "seq is present, every record's bytes match its SHA-256 hash, every prev_hash links to the\n"
    "record before, and every stream version points at its record. Opens the database\n"
    "read-only, so it works while the server is running.\n\n"
    "With --file, checks an export written by `tokenledger-admin audit --format jsonl` (or\n"
    "GET /api/v1/audit/export?format=jsonl) without the database: each line's own hash, and\n"
    "the prev_hash link wherever two lines have consecutive seq. An unfiltered export from seq 1\n"
    "is thereby checked as a whole chain; a filtered one is a subset whose gaps cannot be checked\n"
    "without the database. The output says which the file was.\n\n"
    "Exit status: 0 verified, 1 a record is bad (the first one is named), 2 bad usage.";

int verify_data(const std::string& dir, bool json) {
  const DataDir data{dir};
  VerifyReport report;
  std::string note;
  try {
    auto store = open_store(data, Access::read_only, /*log_only=*/true);
    Progress progress("verifying", store->head().seq);
    report = store->verify([&](std::uint64_t n) { progress.update(n); });
  } catch (const Failure& e) {
    auto raw = verify_raw(data.db());
    if (!raw || raw->ok) throw;
    report = std::move(*raw);
    note = std::string("the event store would not open (") + e.what() + "); the records were checked directly";
  }
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(report.ok).key("data").value(dir).key("events").value(report.events);
    w.key("head").begin_object().key("seq").value(report.head.seq).key("hash").value(report.head.hash).end_object();
    if (!report.ok) w.key("first_bad_seq").value(report.first_bad_seq).key("problem").value(report.problem);
    if (!note.empty()) w.key("note").value(note);
    std::cout << std::move(w.end_object()).str() << "\n";
  } else if (report.ok) {
    std::cout << "OK: the event log in " << dir << " verifies (every record from seq 1 checked).\n"
              << "  events     " << report.events << "\n"
              << "  head seq   " << report.head.seq << "\n"
              << "  head hash  " << report.head.hash << "\n";
  } else {
    std::cout << "FAILED: the event log in " << dir << " does not verify.\n"
              << "  first bad seq  " << report.first_bad_seq << "\n"
              << "  problem        " << report.problem << "\n"
              << "  good before it " << report.events << " events (last good hash " << report.head.hash << ")\n";
    if (!note.empty()) std::cout << "  note           " << note << "\n";
  }
  return report.ok ? kExitOk : kExitFinding;
}

int verify_file(const std::string& path, bool require_complete, bool json) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path + ": no such file or no permission");
  ChainChecker checker;
  std::uint64_t line_no = 0, bad_line = 0, first_blank = 0;
  Progress progress("checking " + path, 0);
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {  // blank lines are tolerated only at the end of the file
      if (first_blank == 0) first_blank = line_no;
      continue;
    }
    if (first_blank != 0) {
      (void)checker.add("");
      bad_line = first_blank;
      break;
    }
    if (!checker.add(line)) {
      bad_line = line_no;
      break;
    }
    if (line_no % 100000 == 0) progress.update(line_no);
  }
  progress.finish();
  const ChainReport& r = checker.report();
  const bool incomplete = r.ok && require_complete && !r.complete();
  const bool ok = r.ok && !incomplete;
  std::string why_incomplete;
  if (incomplete) {
    why_incomplete = r.records == 0     ? "it holds no records"
                     : r.first_seq != 1 ? "it starts at seq " + std::to_string(r.first_seq)
                                        : "records are missing after seq " + std::to_string(r.first_gap_after) + " (" +
                                              std::to_string(r.gaps) + " gaps)";
  }
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("file").value(path).key("records").value(r.records);
    w.key("first_seq").value(r.first_seq).key("last_seq").value(r.last_seq).key("last_hash").value(r.last_hash);
    w.key("complete_chain").value(r.complete()).key("links_checked").value(r.links_checked).key("gaps").value(r.gaps);
    if (!r.ok) w.key("bad_line").value(bad_line).key("bad_seq").value(r.bad_seq).key("problem").value(r.problem);
    if (incomplete) w.key("problem").value("not a complete chain from seq 1: " + why_incomplete);
    std::cout << std::move(w.end_object()).str() << "\n";
  } else if (!r.ok) {
    std::cout << "FAILED: " << path << " does not verify.\n"
              << "  first bad line  " << bad_line << (r.bad_seq ? " (seq " + std::to_string(r.bad_seq) + ")" : "")
              << "\n  problem         " << r.problem << "\n"
              << "  good before it  " << r.records << " records\n";
  } else if (incomplete) {
    std::cout << "FAILED: " << path << " is not a complete chain from seq 1: " << why_incomplete << ".\n"
              << "  (every record present was checked: " << r.records << " records, " << r.links_checked << " links)\n";
  } else if (r.records == 0) {
    std::cout << "OK: " << path << " holds no records.\n";
  } else if (r.complete()) {
    std::cout << "OK: " << path << " verifies as a complete chain from seq 1 to " << r.last_seq << ".\n"
              << "  records    " << r.records << " (every hash and every link checked)\n"
              << "  head seq   " << r.last_seq << "\n"
              << "  head hash  " << r.last_hash << "\n";
  } else {
    std::cout << "OK: " << path << " verifies as a filtered subset (not a complete chain from seq 1).\n"
              << "  records        " << r.records << ", seq " << r.first_seq << " to " << r.last_seq << "\n"
              << "  hashes         every record's own hash checked\n"
              << "  links checked  " << r.links_checked << " (between records with consecutive seq)\n"
              << "  gaps           " << r.gaps << " (records the filter left out; only `verify --data` can\n"
              << "                 tell whether any are missing)\n"
              << "  last hash      " << r.last_hash << "\n";
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace

int cmd_verify(int argc, char** argv) {
  std::string data, file;
  bool json = false, complete = false;
  Command cmd("verify", "[--data DIR | --file EXPORT.jsonl [--complete]] [--json]", kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("file", po::value(&file)->value_name("EXPORT.jsonl"),
                "check an exported JSON Lines file instead of the database")(
      "complete", po::bool_switch(&complete), "with --file: fail unless the file is the whole chain from seq 1");
  cmd.epilog(
      "Examples:\n"
      "  tokenledger-admin verify --data /var/lib/tokenledger\n"
      "  tokenledger-admin audit --data /var/lib/tokenledger --format jsonl > trail.jsonl\n"
      "  tokenledger-admin verify --file trail.jsonl --complete");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (cmd.given("file")) {
    if (cmd.given("data")) throw UsageError("--data and --file exclude each other: check the database or a file");
    return verify_file(file, complete, json);
  }
  if (complete) throw UsageError("--complete goes with --file");
  return verify_data(data, json);
}

}  // namespace tl::admin
