// audit: the audit trail from the index, with the HTTP API's filters, as a table, JSON Lines
// (the stored record bytes, which `verify --file` can check), CSV or one JSON document.
#include <algorithm>
#include <iostream>
#include <type_traits>

#include "eventstore/json_writer.hpp"
#include "eventstore/time_format.hpp"
#include "projections/audit_index.hpp"
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
    "record; spreadsheet formulas are neutralised). jsonl and csv stream in constant memory.";

// Every event type the log knows, from the Event variant itself.
template <std::size_t... I>
std::vector<std::string> event_types(std::index_sequence<I...>) {
  return {std::string(event_type(Event(std::in_place_index<I>)))...};
}
const std::vector<std::string>& all_types() {
  static const auto types = event_types(std::make_index_sequence<std::variant_size_v<Event>>{});
  return types;
}

constexpr const char* kCsvHeader = "seq,at,type,stream,version,actor,via,ip,user_agent,request_id,token_id,owner,hash";

// The same CSV as GET /api/v1/audit/export?format=csv.
void csv_field(std::string& out, std::string_view v) {
  const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
  if (!formula && v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += v;
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');  // so a spreadsheet does not run it
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string csv_line(const Record& r) {
  const std::string fields[] = {std::to_string(r.seq),
                                format_rfc3339(r.at),
                                std::string(event_type(r.event)),
                                r.stream,
                                std::to_string(r.version),
                                r.actor.user,
                                r.actor.via,
                                r.source.ip,
                                r.source.user_agent,
                                r.source.request_id,
                                r.token_id,
                                r.owner,
                                r.hash};
  std::string out;
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) out.push_back(',');
    csv_field(out, fields[i]);
  }
  return out + "\r\n";
}

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
          return {};
        }
      },
      r.event);
}

std::string actor_of(const Record& r) {
  std::string via = r.actor.via;
  if (!r.actor.token_id.empty()) via += " " + r.actor.token_id;
  return r.actor.user + " (" + via + ")";
}

}  // namespace

int cmd_audit(int argc, char** argv) {
  std::string data, format = "table", since, until;
  AuditFilter filter;
  std::uint64_t limit = 0;
  bool json = false;
  Command cmd("audit",
              "[--data DIR] [--token-id ID] [--actor USER] [--type TYPE] [--since TIME] [--until TIME]\n"
              "                         [--after-seq N] [--limit N] [--format table|jsonl|csv | --json]",
              kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("token-id", po::value(&filter.token_id)->value_name("ID"), "records of this token")(
      "actor", po::value(&filter.actor)->value_name("USER"), "records of what this user did")(
      "type", po::value(&filter.type)->value_name("TYPE"), ("one event type: " + join(all_types(), ", ")).c_str())(
      "since", po::value(&since)->value_name("TIME"), "records at or after this time (RFC 3339)")(
      "until", po::value(&until)->value_name("TIME"), "records before this time (RFC 3339)")(
      "after-seq", po::value(&filter.after_seq)->value_name("N"), "records after this seq")(
      "limit", po::value(&limit)->value_name("N"), "at most N records (default: all)")(
      "format", po::value(&format)->value_name("FORMAT"), "table (default), jsonl or csv");
  cmd.epilog(
      "Examples:\n"
      "  who showed token X, and when?\n"
      "    tokenledger-admin audit --token-id tok_01J... --type TokenRevealed\n"
      "  export the whole trail and check it offline:\n"
      "    tokenledger-admin audit --format jsonl > trail.jsonl && tokenledger-admin verify --file trail.jsonl");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (format != "table" && format != "jsonl" && format != "csv") {
    throw UsageError("--format: '" + format + "' is not one of table, jsonl, csv");
  }
  if (json && cmd.given("format") && format != "table")
    throw UsageError("--json and --format " + format + " exclude each other");
  auto parse_time = [](const std::string& text, const char* option) -> std::optional<Timestamp> {
    if (text.empty()) return std::nullopt;
    auto t = parse_rfc3339(text);
    if (!t)
      throw UsageError(std::string(option) + ": '" + text +
                       "' is not an RFC 3339 time; write e.g. 2026-11-27T18:00:00Z");
    return t;
  };
  filter.since = parse_time(since, "--since");
  filter.until = parse_time(until, "--until");
  if (!filter.type.empty() && std::find(all_types().begin(), all_types().end(), filter.type) == all_types().end()) {
    throw UsageError("--type: '" + filter.type + "' is not an event type; one of " + join(all_types(), ", "));
  }

  auto store = open_store(DataDir{data}, Access::read_only);
  const AuditIndex index(*store);
  std::ios::sync_with_stdio(false);
  std::uint64_t count = 0;
  Table table({"SEQ", "AT", "TYPE", "TOKEN/STREAM", "V", "ACTOR", "IP", "DETAILS"});
  table.max_width(6, 40).max_width(7, 60);
  if (format == "csv") std::cout << kCsvHeader << "\r\n";
  if (json) std::cout << "{\"events\":[";
  auto status = index.scan(filter, [&](const Record& r) {
    if (limit != 0 && count == limit) return false;
    if (json) {
      std::cout << (count == 0 ? "" : ",") << r.raw;
    } else if (format == "jsonl") {
      std::cout << r.raw << '\n';
    } else if (format == "csv") {
      std::cout << csv_line(r);
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
