#include "tools/verify_file.hpp"

#include <fstream>
#include <iostream>
#include <optional>

#include "eventstore/json_writer.hpp"
#include "tools/chain_check.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/progress.hpp"

namespace tl::admin {
namespace {

std::string checkpoint_summary(const OfflineCheckpoints& c) {
  return std::to_string(c.count()) + " signed checkpoints verified; " + std::to_string(c.matched()) +
         " match records in the file, " + std::to_string(c.not_in_file()) + " fall in its gaps, " +
         std::to_string(c.beyond()) + " lie beyond its end";
}

}  // namespace

int verify_file(const VerifyFileOptions& o) {
  std::ifstream in(o.path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + o.path + ": no such file or no permission");
  std::optional<OfflineCheckpoints> checkpoints;
  TrustedKey key;
  if (!o.checkpoints_path.empty()) {
    key = trusted_key(o.public_key, "");
    checkpoints.emplace(read_checkpoints_file(o.checkpoints_path), key);
  }

  ChainChecker checker;
  std::uint64_t line_no = 0, bad_line = 0, first_blank = 0;
  Progress progress("checking " + o.path, 0);
  std::string line;
  while ((!checkpoints || checkpoints->ok()) && std::getline(in, line)) {
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
    if (checkpoints && !checkpoints->see(checker.report().last_seq, checker.report().last_hash)) bad_line = line_no;
    if (line_no % 100000 == 0) progress.update(line_no);
  }
  progress.finish();
  if (checkpoints) checkpoints->finish();

  const ChainReport& r = checker.report();
  const bool signatures_ok = !checkpoints || checkpoints->ok();
  const bool incomplete = r.ok && o.require_complete && !r.complete();
  const bool ok = r.ok && signatures_ok && !incomplete;
  std::string why_incomplete;
  if (incomplete) {
    why_incomplete = r.records == 0     ? "it holds no records"
                     : r.first_seq != 1 ? "it starts at seq " + std::to_string(r.first_seq)
                                        : "records are missing after seq " + std::to_string(r.first_gap_after) + " (" +
                                              std::to_string(r.gaps) + " gaps)";
  }

  if (o.json) {
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("file").value(o.path).key("records").value(r.records);
    w.key("first_seq").value(r.first_seq).key("last_seq").value(r.last_seq).key("last_hash").value(r.last_hash);
    w.key("complete_chain").value(r.complete()).key("links_checked").value(r.links_checked).key("gaps").value(r.gaps);
    if (!r.ok) w.key("bad_line").value(bad_line).key("bad_seq").value(r.bad_seq).key("problem").value(r.problem);
    if (incomplete) w.key("problem").value("not a complete chain from seq 1: " + why_incomplete);
    if (checkpoints) {
      w.key("checkpoints").begin_object().key("ok").value(checkpoints->ok()).key("count").value(checkpoints->count());
      w.key("matched").value(checkpoints->matched()).key("in_gaps").value(checkpoints->not_in_file());
      w.key("beyond_end").value(checkpoints->beyond()).key("public_key").value(key.hex);
      if (!checkpoints->ok()) {
        w.key("first_bad_seq").value(checkpoints->first_bad_seq()).key("problem").value(checkpoints->problem());
        if (bad_line != 0) w.key("bad_line").value(bad_line);
      }
      w.end_object();
    }
    std::cout << std::move(w.end_object()).str() << "\n";
    return ok ? kExitOk : kExitFinding;
  }

  if (!r.ok) {
    std::cout << "FAILED: " << o.path << " does not verify.\n"
              << "  first bad line  " << bad_line << (r.bad_seq ? " (seq " + std::to_string(r.bad_seq) + ")" : "")
              << "\n  problem         " << r.problem << "\n"
              << "  good before it  " << r.records << " records\n";
  } else if (!signatures_ok) {
    std::cout << "FAILED: " << o.path << " does not match its signed checkpoints (" << o.checkpoints_path << ").\n"
              << "  checkpoint seq  " << checkpoints->first_bad_seq() << "\n";
    if (bad_line != 0) std::cout << "  line            " << bad_line << "\n";
    std::cout << "  problem         " << checkpoints->problem() << "\n";
  } else if (incomplete) {
    std::cout << "FAILED: " << o.path << " is not a complete chain from seq 1: " << why_incomplete << ".\n"
              << "  (every record present was checked: " << r.records << " records, " << r.links_checked << " links)\n";
  } else if (r.records == 0) {
    std::cout << "OK: " << o.path << " holds no records.\n";
  } else if (r.complete()) {
    std::cout << "OK: " << o.path << " verifies as a complete chain from seq 1 to " << r.last_seq << ".\n"
              << "  records      " << r.records << " (every hash and every link checked)\n"
              << "  head seq     " << r.last_seq << "\n"
              << "  head hash    " << r.last_hash << "\n";
  } else {
    std::cout << "OK: " << o.path << " verifies as a filtered subset (not a complete chain from seq 1).\n"
              << "  records      " << r.records << ", seq " << r.first_seq << " to " << r.last_seq << "\n"
              << "  hashes       every record's own hash checked\n"
              << "  links        " << r.links_checked << " checked (between records with consecutive seq)\n"
              << "  gaps         " << r.gaps << " (records the filter left out; only `verify --data` can\n"
              << "               tell whether any are missing)\n"
              << "  last hash    " << r.last_hash << "\n";
  }
  if (ok && checkpoints) {
    std::cout << "  checkpoints  " << checkpoint_summary(*checkpoints) << "\n"
              << "  public key   " << (key.hex.empty() ? "-" : key.hex) << " (" << key.source << ")\n";
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
