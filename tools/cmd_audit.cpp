// audit: the audit trail from the index, with the HTTP API's filters, as a table, JSON Lines
// (the stored record bytes, which `verify --file` can check), CSV or one JSON document.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <type_traits>
#include <utility>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "projections/audit_csv.hpp"
#include "projections/audit_index.hpp"
#include "projections/audit_manifest.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"
#include "tools/table.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Prints the audit trail: who created, showed (TokenRevealed), changed or deleted which\n"
    "token, and every change to user accounts, when and from where. The filters are the HTTP\n"
    "API's (GET /api/v1/audit) and combine with AND. Opens the database read-only (works\n"
    "beside the server).\n\n"
    "Formats: table (for reading), jsonl (the records exactly as stored, one per line: what\n"
    "`tokenledger-admin verify --file` checks offline), csv (a header row, then one row per\n"
    "record; spreadsheet formulas are neutralised). jsonl and csv stream in constant memory.\n\n"
    "--since and --until make a half-open window, [since, until): a record at exactly --since\n"
    "is in it, one at exactly --until is not (as in the HTTP API; `replay --until` is instead a\n"
    "point in time and includes it). Times are compared at full precision.\n\n"
    "--manifest FILE (with --format jsonl) writes the export's manifest beside it: the head the\n"
    "export is bounded by, the filters, the count and first/last seq, and the newest signed\n"
    "checkpoint; `tokenledger-admin verify --file E --manifest FILE` checks the two together.";

const std::vector<std::string>& all_types() { return known_event_types(); }

std::string join(const std::vector<std::string>& parts, const char* separator = ",") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out.empty() ? "(none)" : out;
}

// What changed, in a few words (never the lookup hash or the sealed code).
std::string details(const Record& r) {
  return std::visit(
      [&](const auto& e) -> std::string {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, TokenCreated>) {
          return "\"" + e.description + "\", " + std::to_string(e.timeout_days) + " days";
        } else if constexpr (std::is_same_v<E, TokenDescriptionChanged>) {
          return "description \"" + e.description + "\"";
        } else if constexpr (std::is_same_v<E, TokenTimeoutChanged>) {
          return "timeout " + std::to_string(e.timeout_days) + " days";
        } else if constexpr (std::is_same_v<E, TokenDeleted>) {
          return e.reason.empty() ? std::string() : "reason: " + e.reason;
        } else if constexpr (std::is_same_v<E, TokenUsed>) {
          return "used at " + format_rfc3339(e.used_at) + (e.ip.empty() ? "" : " from " + e.ip);
        } else if constexpr (std::is_same_v<E, TokenExpiryNotified>) {
          return "expiry notice " + e.window + (e.delivered ? ", delivered" : ", not delivered");
        } else if constexpr (std::is_same_v<E, UserCreated>) {
          return "groups " + join(e.groups);
        } else if constexpr (std::is_same_v<E, UserGroupsChanged>) {
          return "groups " + join(e.groups);
        } else {
          return access_event_details(r.event);  // the access events' data; "" for the rest
        }
      },
      r.event);
}

std::string actor_of(const Record& r) {
  std::string via(r.actor.stored_via());
  if (!r.actor.token_id.empty()) via += " " + r.actor.token_id;
  return r.actor.user + " (" + via + ")";
}

void check_usage(const Command& cmd, const std::string& format, bool json, const std::string& type) {
  if (format != "table" && format != "jsonl" && format != "csv") {
    throw UsageError("--format: '" + format + "' is not one of table, jsonl, csv");
  }
  if (json && cmd.given("format") && format != "table")
    throw UsageError("--json and --format " + format + " exclude each other");
  if (cmd.given("manifest") && (format != "jsonl" || json)) throw UsageError("--manifest needs --format jsonl");
  if (cmd.given("bom") && (format != "csv" || json)) throw UsageError("--bom needs --format csv");
  if (cmd.given("manifest") && cmd.given("limit")) {
    throw UsageError("--manifest and --limit exclude each other: a manifest describes the whole export");
  }
  if (!type.empty() && std::find(all_types().begin(), all_types().end(), type) == all_types().end()) {
    throw UsageError("--type: '" + type + "' is not an event type; one of " + join(all_types(), ", "));
  }
}

// A window bound (RFC 3339 §5.6). Both ends round sub-millisecond digits up (PreciseTime::ceil),
// which keeps at >= since and at < until exactly what full precision gives against ms times.
std::optional<Timestamp> window_bound(const std::string& text, const char* option) {
  if (text.empty()) return std::nullopt;
  auto t = parse_rfc3339_precise(text);
  if (!t) {
    throw UsageError(std::string(option) + ": '" + text + "' is not an RFC 3339 time; write e.g. 2026-11-27T18:00:00Z");
  }
  return t->ceil();
}

// The filters given on the command line, under the manifest's (the HTTP API's) names.
std::vector<std::pair<std::string, std::string>> given_filters(const Command& cmd, const AuditFilter& filter,
                                                               const std::string& since, const std::string& until) {
  std::vector<std::pair<std::string, std::string>> given;
  if (cmd.given("token-id")) given.emplace_back("token_id", filter.token_id);
  if (cmd.given("actor")) given.emplace_back("actor", filter.actor);
  if (cmd.given("owner")) given.emplace_back("owner", filter.owner);
  if (cmd.given("type")) given.emplace_back("type", filter.type);
  if (cmd.given("since")) given.emplace_back("since", since);
  if (cmd.given("until")) given.emplace_back("until", until);
  if (cmd.given("after-seq")) given.emplace_back("after_seq", std::to_string(filter.after_seq));
  return given;
}

void write_manifest(const std::string& path, const EventLog& store, const AuditIndex& index, const AuditFilter& filter,
                    const Head& head, const std::vector<std::pair<std::string, std::string>>& given) {
  auto manifest = export_manifest(store, index, filter, head, given, now_ms());
  if (!manifest) throw Failure("cannot make the manifest: " + manifest.error().message);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << *manifest << '\n';
  out.close();
  if (!out) throw Failure("cannot write the manifest to " + path);
}

}  // namespace

int cmd_audit(int argc, char** argv) {
  std::string data, format = "table", since, until, manifest;
  AuditFilter filter;
  std::uint64_t limit = 0;
  bool json = false, bom = false;
  Command cmd(
      "audit",
      "[--data DIR] [--token-id ID] [--actor USER] [--owner USER] [--type TYPE] [--since TIME]\n"
      "                         [--until TIME] [--after-seq N] [--limit N] [--format table|jsonl|csv | --json]\n"
      "                         [--manifest FILE] [--bom]",
      kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("token-id", po::value(&filter.token_id)->value_name("ID"), "records of this token")(
      "actor", po::value(&filter.actor)->value_name("USER"), "records of what this user did")(
      "owner", po::value(&filter.owner)->value_name("USER"), "records on this user's tokens, whoever acted")(
      "type", po::value(&filter.type)->value_name("TYPE"), ("one event type: " + join(all_types(), ", ")).c_str())(
      "since", po::value(&since)->value_name("TIME"), "records at or after this time (RFC 3339; inclusive)")(
      "until", po::value(&until)->value_name("TIME"), "records before this time (RFC 3339; exclusive)")(
      "after-seq", po::value(&filter.after_seq)->value_name("N"), "records after this seq")(
      "limit", po::value(&limit)->value_name("N"), "at most N records (default: all)")(
      "format", po::value(&format)->value_name("FORMAT"), "table (default), jsonl or csv")(
      "bom", po::bool_switch(&bom), "with --format csv: start with UTF-8's byte order mark, for spreadsheets")(
      "manifest", po::value(&manifest)->value_name("FILE"), "with --format jsonl: write the export's manifest to FILE");
  cmd.epilog(
      "Examples:\n"
      "  who showed token X, and when?\n"
      "    tokenledger-admin audit --token-id tok_01J... --type TokenRevealed\n"
      "  everything others did to alice's tokens:\n"
      "    tokenledger-admin audit --owner alice\n"
      "  export the whole trail and check it offline:\n"
      "    tokenledger-admin audit --format jsonl --manifest trail.manifest.json > trail.jsonl\n"
      "    tokenledger-admin verify --file trail.jsonl --manifest trail.manifest.json\n"
      "  everything on 27 November 2026 (UTC):\n"
      "    tokenledger-admin audit --since 2026-11-27T00:00:00Z --until 2026-11-28T00:00:00Z");
  if (!cmd.parse(argc, argv)) return kExitOk;
  check_usage(cmd, format, json, filter.type);
  if (cmd.given("owner")) {
    if (!utf8_length(filter.owner)) throw UsageError("--owner: must be valid UTF-8");
    filter.owner = canonical_username(filter.owner);
  }
  filter.since = window_bound(since, "--since");
  filter.until = window_bound(until, "--until");

  auto store = open_store(DataDir{data}, Access::read_only);
  const AuditIndex index(*store);
  // Read-only, the store is a snapshot; bounding by its head keeps export and manifest equal.
  const Head head = store->head();
  filter.head_seq = head.seq;
  // First, so that a manifest that cannot be written leaves no export without one.
  if (cmd.given("manifest"))
    write_manifest(manifest, *store, index, filter, head, given_filters(cmd, filter, since, until));
  std::ios::sync_with_stdio(false);
  std::uint64_t count = 0;
  Table table({"SEQ", "AT", "TYPE", "TOKEN/STREAM", "V", "ACTOR", "IP", "DETAILS"});
  table.max_width(6, 40).max_width(7, 60);
  std::string csv;  // one row at a time, reused
  AuditCsvRows csv_rows(index);
  if (format == "csv") {
    if (bom) csv += kUtf8Bom;
    append_audit_csv_header(csv);
    std::cout << csv;
  }
  if (json) std::cout << "{\"events\":[";
  auto status = index.scan(filter, [&](const Record& r) {
    if (limit != 0 && count == limit) return false;
    if (json) {
      std::cout << (count == 0 ? "" : ",") << r.raw;
    } else if (format == "jsonl") {
      std::cout << r.raw << '\n';
    } else if (format == "csv") {
      csv.clear();
      csv_rows.append(csv, r);
      std::cout << csv;
    } else {
      table.add({std::to_string(r.seq), format_rfc3339(r.at), std::string(event_type(r.event)), r.stream,
                 std::to_string(r.version), actor_of(r), r.source.ip, details(r)});
    }
    ++count;
    return static_cast<bool>(std::cout);
  });
  if (json) std::cout << "],\"count\":" << count << "}\n";
  if (format == "table" && !json) {
    table.print(std::cout);
    std::cout << "\n" << count << (count == 1 ? " record" : " records") << " (head seq " << store->head().seq << ")\n";
  }
  std::cout.flush();
  if (!status) throw Failure("cannot read the audit trail: " + status.error().message);
  if (!std::cout) throw Failure("cannot write the output (disk full or a closed pipe?)");
  return kExitOk;
}

}  // namespace tl::admin
