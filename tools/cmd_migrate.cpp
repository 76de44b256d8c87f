// migrate: copies a log between the embedded RocksDB database of a data directory and PostgreSQL
// (issue 19, item 5), record for record as stored, then checks the copy: the whole chain and
// every signed checkpoint, and that it ends at the source's head.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <vector>

#include "common/json_writer.hpp"
#include "eventstore/pg_log.hpp"
#include "projections/read_model.hpp"
#include "service/integrity.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Copies the event log from a data directory's embedded database to PostgreSQL, or back:\n"
    "every record exactly as stored (the same bytes, so the same hashes and the same chain),\n"
    "the side stores (wrapped data keys, password hashes, signed checkpoints, the database id),\n"
    "then folds the projections of the copy from seq 1 and checks it as `verify` does: every\n"
    "record, hash link and index entry, and every signed checkpoint; and that the copy ends at\n"
    "the source's head. The target must hold no log yet. Stop every server on the source first\n"
    "(records appended meanwhile are not copied). A PostgreSQL URL is better given in the\n"
    "environment than on the command line: TOKENLEDGER_PG_URL stands for --to or --from when\n"
    "that is the word `env`. The key files stay where they are: a server on the copy needs the\n"
    "same master.key and signing.key.\n\n"
    "Exit status: 0 copied and verified; 1 the target holds a log already (refused), the copy\n"
    "does not verify (check_failed) or a step failed; 2 bad usage, or a source that will not open.";

// The log at `where`: PostgreSQL for a postgresql:// URL (or `env`), else a data directory.
std::unique_ptr<EventLog> open_log(const std::string& where, bool writable) {
  std::string url = where;
  if (where == "env") {
    const char* env = std::getenv("TOKENLEDGER_PG_URL");
    if (env == nullptr) throw UsageError("`env` names TOKENLEDGER_PG_URL, which is not set");
    url = env;
  }
  if (is_pg_url(url)) {
    auto log = open_pg_log({.url = url, .read_only = !writable, .allow_async = true});
    if (!log) throw Failure(log.error().message);
    return std::move(log).value();
  }
  return open_store(DataDir{where}, writable ? Access::writable_create : Access::read_only);
}

// Every side store's entries, batched into the target's state (the side stores are families of it).
std::uint64_t copy_side_stores(const EventLog& from, EventLog& to) {
  std::uint64_t copied = 0;
  for (SideStore store : {SideStore::keys, SideStore::credentials, SideStore::meta}) {
    auto batch = to.state().new_batch();
    std::size_t pending = 0;
    auto flush = [&] {
      if (pending == 0) return;
      if (Status s = to.state().write(*batch); !s) throw Failure("copying the side stores: " + s.error().message);
      batch->clear();
      pending = 0;
    };
    const Status read = from.scan_side(store, [&](std::string_view key, std::string_view value) {
      // The embedded log's head marker is the log's own (import_records writes the target's).
      if (store == SideStore::meta && key == "head") return true;
      batch->put(side_store_name(store), key, value);
      ++copied;
      if (++pending == 1000) flush();
      return true;
    });
    if (!read) throw Failure("reading the side stores: " + read.error().message);
    flush();
  }
  return copied;
}

std::uint64_t copy_records(const EventLog& from, EventLog& to) {
  const std::uint64_t head = from.head().seq;
  Progress progress("copying records", head);
  std::vector<std::string> chunk;
  std::uint64_t copied = 0;
  auto flush = [&] {
    if (Status s = to.import_records(chunk); !s) throw Failure("copying the records: " + s.error().message);
    copied += chunk.size();
    chunk.clear();
    progress.update(copied);
  };
  const Status read = from.read_range(1, head, [&](const Record& r) {
    chunk.push_back(r.raw);
    if (chunk.size() == 1000) flush();
    return true;
  });
  if (!read) throw Failure("reading the records: " + read.error().message);
  if (!chunk.empty()) flush();
  progress.finish();
  return copied;
}

}  // namespace

int cmd_migrate(int argc, char** argv) {
  std::string from, to;
  bool json = false;
  Command cmd("migrate", "--from DIR|URL|env --to DIR|URL|env [--json]", kAbout);
  cmd.options()("from", po::value(&from)->required()->value_name("DIR|URL"), "the log to copy")(
      "to", po::value(&to)->required()->value_name("DIR|URL"), "where to copy it (no log there yet)");
  cmd.json_option(json);
  if (!cmd.parse(argc, argv)) return kExitOk;
  const bool to_pg = to == "env" || is_pg_url(to);
  if (to_pg == (from == "env" || is_pg_url(from))) {
    throw UsageError("migrate copies between a data directory and PostgreSQL: one of --from and --to is a URL");
  }
  const auto started = std::chrono::steady_clock::now();
  auto source = open_log(from, false);
  auto target = open_log(to, true);
  if (const std::uint64_t there = target->head().seq; there > 0) {
    throw Failure("the target already holds a log (" + std::to_string(there) +
                      " records): migrate copies into an empty one only; nothing was copied",
                  ErrorKind::refused);
  }
  const Head head = source->head();
  const std::uint64_t records = copy_records(*source, *target);
  const std::uint64_t side = copy_side_stores(*source, *target);
  // The copy's projections (audit index, owner snapshots, token and user tables) from seq 1.
  {
    ReadModel model(*target);
    Progress progress("folding the copy", records);
    if (Status s = model.rebuild([&](std::uint64_t n) { progress.update(n); }); !s) {
      throw Failure("folding the copy: " + s.error().message);
    }
  }
  IntegrityOptions check;
  Progress progress("verifying the copy", records);
  check.progress = [&](std::uint64_t n) { progress.update(n); };
  const IntegrityReport report = check_integrity(*target, check);
  progress.finish();
  const Head copied = target->head();
  const bool same_head = copied.seq == head.seq && copied.hash == head.hash;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  target->close();
  const bool ok = report.ok && same_head;
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("records").value(records).key("side_entries").value(side);
    w.key("head").begin_object().key("seq").value(head.seq).key("hash").value(head.hash).end_object();
    w.key("checkpoints").value(report.checkpoints).key("seconds").raw(fmt::format("{:.3f}", seconds));
    std::string text = std::move(w.end_object()).str();
    if (!ok) {  // still one object: the outcome, with the error of every --json failure added
      text = with_error(std::move(text), ErrorKind::check_failed,
                        report.ok
                            ? "the copy ends at seq " + std::to_string(copied.seq) + ", not " + std::to_string(head.seq)
                            : "the copy does not verify: first bad seq " + std::to_string(report.first_bad_seq) + " (" +
                                  report.kind + ": " + report.problem + ")");
    }
    std::cout << text << "\n";
  } else if (ok) {
    std::cout << "Copied and verified.\n"
              << "  records      " << with_commas(records) << " (head seq " << head.seq << ", " << head.hash << ")\n"
              << "  side entries " << with_commas(side) << "\n"
              << "  checkpoints  " << report.checkpoints << " signed, each verified\n"
              << "  time         " << fmt::format("{:.2f} s", seconds) << "\n";
  } else {
    std::cout << "FAILED: the copy does not verify.\n";
    if (!report.ok) {
      std::cout << "  first bad seq " << report.first_bad_seq << " (" << report.kind << ": " << report.problem << ")\n";
    }
    if (!same_head) std::cout << "  the copy ends at seq " << copied.seq << ", not " << head.seq << "\n";
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
