#include "tools/verify_file.hpp"

#include <fstream>
#include <iostream>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/json_writer.hpp"
#include "eventstore/chain_link.hpp"
#include "tools/chain_check.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/export_manifest.hpp"
#include "tools/progress.hpp"

namespace tl::admin {
namespace {

// The first thing wrong with the file beyond its chain; seq 0 when it holds no record to name.
struct Finding {
  bool found = false;
  std::uint64_t seq = 0;
  std::string problem;
};

Finding finding(std::uint64_t seq, std::string problem) { return {true, seq, std::move(problem)}; }

// Per-stream version continuity of a complete export: the appender gives each stream's records
// the versions 1, 2, 3 …, so a jump means a record of the stream is missing, a repeat that one
// was duplicated or replaced.
class StreamVersions {
 public:
  Finding see(std::uint64_t seq, const std::string& stream, std::uint64_t version) {
    std::uint64_t& last = last_[stream];
    if (version == last + 1) {
      last = version;
      return {};
    }
    return finding(seq, "stream \"" + printable(stream) + "\" has version " + std::to_string(version) +
                            " after version " + std::to_string(last) + " (" +
                            (version <= last ? "a repeat" : "a jump: a record of the stream is missing") + ")");
  }

 private:
  std::unordered_map<std::string, std::uint64_t> last_;
};

struct Scan {
  ChainChecker checker;
  std::optional<OfflineCheckpoints> checkpoints;
  std::optional<StreamVersions> streams;  // complete exports only
  Finding stream_finding;
  const ExportManifest* filters = nullptr;  // a manifest whose filters every record must match
  Finding filter_finding;
  std::uint64_t bad_line = 0;
  std::uint64_t watch_seq = 0;              // the manifest's checkpoint seq (0: none)
  std::optional<std::string> watched_hash;  // the file's hash at watch_seq
};

void scan(std::istream& in, const std::string& path, Scan& s) {
  std::uint64_t line_no = 0, first_blank = 0;
  Progress progress("checking " + path, 0);
  std::string line;
  while ((!s.checkpoints || s.checkpoints->ok()) && std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {  // blank lines are tolerated only at the end of the file
      if (first_blank == 0) first_blank = line_no;
      continue;
    }
    if (first_blank != 0) {
      (void)s.checker.add("");
      s.bad_line = first_blank;
      break;
    }
    if (!s.checker.add(line)) {
      s.bad_line = line_no;
      break;
    }
    const ChainReport& r = s.checker.report();
    if (s.checkpoints && !s.checkpoints->see(r.last_seq, r.last_hash)) s.bad_line = line_no;
    if (s.streams && !s.stream_finding.found)
      s.stream_finding = s.streams->see(r.last_seq, r.last_stream, r.last_version);
    if (s.filters && !s.filter_finding.found) {
      if (auto why = manifest_filter_breach(*s.filters, s.checker.last_record()); !why.empty()) {
        s.filter_finding =
            finding(r.last_seq, "line " + std::to_string(line_no) + " (seq " + std::to_string(r.last_seq) +
                                    ") does not match the manifest's filter " + why);
      }
    }
    if (r.last_seq == s.watch_seq) s.watched_hash = r.last_hash;
    if (line_no % 100000 == 0) progress.update(line_no);
  }
  progress.finish();
  if (s.checkpoints) s.checkpoints->finish();
}

Finding check_complete(const ChainReport& r, const std::optional<ExportManifest>& manifest) {
  if (r.complete()) return {};
  if (r.records == 0) {
    if (manifest && manifest->head_seq == 0) return {};  // the export of an empty log
    return finding(0, "it holds no records (the export of an empty log is checked with its --manifest)");
  }
  if (r.first_seq != 1) {
    return finding(1, "it starts at seq " + std::to_string(r.first_seq) + ": seq 1 is missing");
  }
  return finding(r.first_gap_after + 1, "seq " + std::to_string(r.first_gap_after + 1) + " is missing (" +
                                            std::to_string(r.gaps) + (r.gaps == 1 ? " gap" : " gaps") +
                                            "; use --filtered for an export of a filtered query)");
}

Finding check_checkpoints_reached(const OfflineCheckpoints& c, const ChainReport& r) {
  if (c.beyond() == 0) return {};
  return finding(c.first_beyond_seq(), "the export ends at seq " + std::to_string(r.last_seq) +
                                           " before the signed checkpoint at seq " +
                                           std::to_string(c.first_beyond_seq()) + " (" + std::to_string(c.beyond()) +
                                           " checkpoints not reached, the newest at seq " +
                                           std::to_string(c.newest_beyond_seq()) + "): records were cut from its end");
}

std::string seq_text(std::optional<std::uint64_t> seq) { return seq ? std::to_string(*seq) : "null"; }

// The manifest against the file; `key_source` says which key its checkpoint was checked with.
Finding check_manifest(const ExportManifest& m, const Scan& s, const std::string& public_key, std::string& key_source) {
  const ChainReport& r = s.checker.report();
  const auto first = r.records ? std::optional(r.first_seq) : std::nullopt;
  const auto last = r.records ? std::optional(r.last_seq) : std::nullopt;
  if (m.count != r.records) {
    return finding(
        0, "the manifest says " + std::to_string(m.count) + " records, the file holds " + std::to_string(r.records));
  }
  if (m.first_seq != first) {
    return finding(first.value_or(0),
                   "the manifest's first_seq is " + seq_text(m.first_seq) + ", the file's " + seq_text(first));
  }
  if (m.last_seq != last) {
    return finding(last.value_or(0),
                   "the manifest's last_seq is " + seq_text(m.last_seq) + ", the file's " + seq_text(last));
  }
  if (!m.filtered() && (r.last_seq != m.head_seq || (m.head_seq != 0 && r.last_hash != m.head_hash))) {
    return finding(m.head_seq, "the file ends at seq " + std::to_string(r.last_seq) +
                                   " but the manifest's head is seq " + std::to_string(m.head_seq) + " " + m.head_hash +
                                   " (an unfiltered export ends at the head)");
  }
  if (!m.checkpoint) return {};
  const SignedCheckpoint& c = *m.checkpoint;
  key_source =
      public_key.empty() ? "the key it names (pass --public-key to check against a key you hold)" : "--public-key";
  if (!checkpoint_signature_trusted(c, public_key)) {
    return finding(c.seq, "the manifest's checkpoint signature does not verify with " + key_source);
  }
  if (s.watched_hash && *s.watched_hash != c.hash) {
    return finding(c.seq, "the file's record at seq " + std::to_string(c.seq) +
                              " is not the one the manifest's checkpoint signed");
  }
  if (!s.watched_hash && !m.filtered()) {
    return finding(c.seq, "the export does not hold seq " + std::to_string(c.seq) +
                              ", which the manifest's checkpoint signed (it ends at seq " + std::to_string(r.last_seq) +
                              ")");
  }
  return {};
}

struct Outcome {
  bool filtered = false;
  std::vector<std::string> checks;  // the checks that ran, for the output
  Finding finding;                  // the first failed check past the chain and checkpoints
  std::string manifest_key_source;
};

void print_json(const VerifyFileOptions& o, const Scan& s, const TrustedKey& key, const Outcome& out, bool ok) {
  const ChainReport& r = s.checker.report();
  JsonWriter w;
  w.begin_object().key("ok").value(ok).key("file").value(o.path).key("records").value(r.records);
  w.key("first_seq").value(r.first_seq).key("last_seq").value(r.last_seq).key("last_hash").value(r.last_hash);
  w.key("complete_chain").value(r.complete()).key("links_checked").value(r.links_checked).key("gaps").value(r.gaps);
  w.key("mode").value(out.filtered ? "filtered" : "complete").key("checks").begin_array();
  for (const auto& c : out.checks) w.value(c);
  w.end_array();
  if (!r.ok) w.key("bad_line").value(s.bad_line).key("bad_seq").value(r.bad_seq).key("problem").value(r.problem);
  if (r.ok && out.finding.found) w.key("problem_seq").value(out.finding.seq).key("problem").value(out.finding.problem);
  if (const auto& c = s.checkpoints) {
    w.key("checkpoints").begin_object().key("ok").value(c->ok()).key("count").value(c->count());
    w.key("matched").value(c->matched()).key("in_gaps").value(c->not_in_file());
    w.key("beyond_end").value(c->beyond()).key("public_key").value(key.hex);
    if (c->beyond() != 0) w.key("first_beyond_seq").value(c->first_beyond_seq());
    if (!c->ok()) {
      w.key("first_bad_seq").value(c->first_bad_seq()).key("problem").value(c->problem());
      if (s.bad_line != 0) w.key("bad_line").value(s.bad_line);
    }
    w.end_object();
  }
  if (!out.manifest_key_source.empty()) w.key("manifest_checkpoint_key").value(out.manifest_key_source);
  std::string text = std::move(w.end_object()).str();
  if (!ok) {  // still one object: the report, with the error of every --json failure added
    const std::string problem = !r.ok                                   ? r.problem
                                : s.checkpoints && !s.checkpoints->ok() ? s.checkpoints->problem()
                                                                        : out.finding.problem;
    text = with_error(std::move(text), ErrorKind::check_failed, o.path + " does not verify: " + problem);
  }
  std::cout << text << "\n";
}

void print_text(const VerifyFileOptions& o, const Scan& s, const TrustedKey& key, const Outcome& out) {
  const ChainReport& r = s.checker.report();
  if (!r.ok) {
    std::cout << "FAILED: " << o.path << " does not verify.\n"
              << "  first bad line  " << s.bad_line << (r.bad_seq ? " (seq " + std::to_string(r.bad_seq) + ")" : "")
              << "\n  problem         " << r.problem << "\n"
              << "  good before it  " << r.records << " records\n";
    return;
  }
  if (!s.checkpoints || s.checkpoints->ok()) {
    if (out.finding.found) {
      std::cout << "FAILED: " << o.path << (out.filtered ? " (checked as a filtered export)" : "")
                << " does not verify: " << out.finding.problem << ".\n";
      if (out.finding.seq != 0) std::cout << "  seq          " << out.finding.seq << "\n";
    } else if (out.filtered) {
      std::cout << "OK: " << o.path << " verifies as a filtered subset.\n"
                << "  records      " << r.records << ", seq " << r.first_seq << " to " << r.last_seq << "\n"
                << "  gaps         " << r.gaps << " (records the filter left out)\n"
                << "  note         a record the filter matches but the file lacks cannot be detected\n"
                << "               without the database: only `verify --data` can tell\n";
    } else {
      std::cout << "OK: " << o.path << " verifies as a complete chain from seq 1 to " << r.last_seq << ".\n"
                << "  records      " << r.records << "\n";
    }
  } else {
    std::cout << "FAILED: " << o.path << " does not match its signed checkpoints (" << o.checkpoints_path << ").\n"
              << "  checkpoint seq  " << s.checkpoints->first_bad_seq() << "\n";
    if (s.bad_line != 0) std::cout << "  line            " << s.bad_line << "\n";
    std::cout << "  problem         " << s.checkpoints->problem() << "\n";
    return;
  }
  std::cout << "  last seq     " << r.last_seq << "\n  last hash    " << r.last_hash << "\n";
  for (const auto& c : out.checks) std::cout << "  checked      " << c << "\n";
  if (s.checkpoints) {
    const auto& c = *s.checkpoints;
    std::cout << "  checkpoints  " << c.count() << " signed checkpoints verified; " << c.matched()
              << " match records in the file, " << c.not_in_file() << " fall in its gaps, " << c.beyond()
              << " lie beyond its end\n"
              << "  public key   " << (key.hex.empty() ? "-" : key.hex) << " (" << key.source << ")\n";
  }
  if (!out.manifest_key_source.empty()) std::cout << "  manifest key " << out.manifest_key_source << "\n";
}

}  // namespace

int verify_file(const VerifyFileOptions& o) {
  std::ifstream in(o.path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + o.path + ": no such file or no permission", ErrorKind::cannot_open);
  std::optional<ExportManifest> manifest;
  if (!o.manifest_path.empty()) manifest = read_manifest(o.manifest_path);
  Outcome out;
  out.filtered = o.filtered || (manifest && manifest->filtered());
  if (out.filtered && o.complete_given) {
    throw UsageError(o.filtered ? "--complete and --filtered exclude each other"
                                : "--complete, but the manifest " + o.manifest_path + " says the export was filtered");
  }
  Scan s;
  TrustedKey key;
  if (!o.checkpoints_path.empty()) {
    key = trusted_key(o.public_key, "");
    s.checkpoints.emplace(read_checkpoints_file(o.checkpoints_path), key);
  }
  if (!out.filtered) s.streams.emplace();
  if (manifest && manifest->checkpoint) s.watch_seq = manifest->checkpoint->seq;
  if (manifest && !manifest->filters.empty()) s.filters = &*manifest;
  scan(in, o.path, s);

  const ChainReport& r = s.checker.report();
  out.checks.emplace_back("every record's own hash, and every link between consecutive seqs");
  const auto check = [&](std::string what, const Finding& f) {
    out.checks.push_back(std::move(what));
    if (!out.finding.found) out.finding = f;
  };
  if (r.ok && (!s.checkpoints || s.checkpoints->ok())) {
    if (!out.filtered) {
      check("complete: every seq from 1 to the last, no gap", check_complete(r, manifest));
      check("every stream's versions continuous (1, 2, 3 …)", s.stream_finding);
      if (s.checkpoints) check("every signed checkpoint reached", check_checkpoints_reached(*s.checkpoints, r));
    }
    if (s.filters) check("every record matches the manifest's filters", s.filter_finding);
    if (manifest) {
      check("the manifest " + o.manifest_path + " (count, first and last seq" + (out.filtered ? "" : ", head") +
                (manifest->checkpoint ? ", its signed checkpoint" : "") + ")",
            check_manifest(*manifest, s, o.public_key, out.manifest_key_source));
    }
  }
  const bool ok = r.ok && (!s.checkpoints || s.checkpoints->ok()) && !out.finding.found;
  if (o.json) {
    print_json(o, s, key, out, ok);
  } else {
    print_text(o, s, key, out);
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
