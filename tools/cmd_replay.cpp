// replay: the token table as it stood at a moment or a seq, folded from the log (never codes).
#include <iostream>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "projections/audit_index.hpp"
#include "projections/point_in_time.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"
#include "tools/table.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Prints the tokens as they stood at a moment: the log folded up to --until TIME (records\n"
    "at or before it) or --until-seq N, or up to its end. Deleted tokens are absent, as the\n"
    "server showed them then. EXPIRED says whether the token had expired at that moment.\n"
    "Token codes are never printed. Opens the database read-only (works beside the server).\n\n"
    "--until is a point in time: a record at exactly that time is included (\"as it stood at\n"
    "T\"), as with GET /api/v1/tokens?as_of=. `audit --since/--until` is instead a half-open\n"
    "window. Times are compared at full precision.\n\n"
    "With --owner or --token only that owner's (token's) records are read, found through the\n"
    "audit index; --full folds the whole log instead (the same answer, slower).";

// Floored to the millisecond: a record time (whole ms) is at or before T exactly when it is at
// or before T's millisecond.
Timestamp parse_time(const std::string& text, const char* option) {
  auto t = parse_rfc3339(text);
  if (!t) {
    throw UsageError(std::string(option) + ": '" + text +
                     "' is not an RFC 3339 time; write e.g. 2026-11-27T18:00:00Z or 2026-11-27T19:00:00+01:00");
  }
  return *t;
}

}  // namespace

int cmd_replay(int argc, char** argv) {
  std::string data, until, owner, token;
  std::uint64_t until_seq = 0;
  bool json = false, full = false;
  Command cmd("replay", "[--data DIR] [--until TIME | --until-seq N] [--owner USER] [--token ID] [--json]", kAbout);
  cmd.data_option(data).json_option(json);
  cmd.options()("until", po::value(&until)->value_name("TIME"),
                "the moment, RFC 3339 (e.g. 2026-11-27T18:00:00Z); inclusive")(
      "until-seq", po::value(&until_seq)->value_name("N"), "fold records up to this seq")(
      "owner", po::value(&owner)->value_name("USER"), "only this user's tokens")(
      "token", po::value(&token)->value_name("ID"), "only this token")(
      "full", po::bool_switch(&full), "fold the whole log from seq 1, not only the owner's or token's records");
  cmd.epilog(
      "Example: what tokens did alice hold at the end of 27 November 2026 (UTC)?\n"
      "  tokenledger-admin replay --data /var/lib/tokenledger --owner alice --until 2026-11-27T23:59:59.999Z");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (cmd.given("until") && cmd.given("until-seq")) throw UsageError("give --until or --until-seq, not both");
  if (!utf8_length(owner)) throw UsageError("--owner: must be valid UTF-8");

  // Owners are stored by their canonical name: --owner ALICE is alice, as on the HTTP API.
  AsOf as_of{.owner = owner.empty() ? owner : canonical_username(owner), .token_id = token};
  if (cmd.given("until")) as_of.until = parse_time(until, "--until");
  if (cmd.given("until-seq")) as_of.until_seq = until_seq;

  // With the audit index family: tokens_as_of reads an owner's records through it.
  auto store = open_store(DataDir{data}, Access::read_only, /*log_only=*/false);
  const Head head = store->head();
  auto rows = full ? tokens_as_of_full(*store, as_of) : tokens_as_of(*store, as_of);
  if (!rows) throw Failure("cannot fold the log: " + rows.error().message);

  // The moment the state is shown for, and the last seq it includes.
  std::uint64_t seq = head.seq;
  Timestamp moment = now_ms();
  if (as_of.until) {
    moment = *as_of.until;
    auto last = last_seq_at_or_before(*store, moment);
    if (!last) throw Failure("cannot read the log: " + last.error().message);
    seq = *last;
  } else if (as_of.until_seq) {
    seq = std::min(*as_of.until_seq, head.seq);
    auto record = store->read(seq);
    if (record && *record) moment = (*record)->at;
  }

  if (json) {
    JsonWriter w;
    w.begin_object().key("as_of").begin_object().key("seq").value(seq).key("at").value(format_rfc3339(moment));
    w.key("head_seq").value(head.seq).end_object().key("tokens").begin_array();
    for (const TokenRow& row : *rows) {
      const TokenState& s = row.state;
      w.begin_object().key("id").value(s.id).key("owner").value(s.owner).key("description").value(s.description);
      w.key("created_at").value(format_rfc3339(s.created_at)).key("expires_at").value(format_rfc3339(s.expires_at()));
      w.key("timeout_days").value(s.timeout_days).key("expired").value(s.expired(moment));
      w.key("version").value(s.version).end_object();
    }
    w.end_array().end_object();
    std::cout << std::move(w).str() << "\n";
    return kExitOk;
  }
  std::cout << "Tokens as of " << format_rfc3339(moment) << " (the log up to seq " << seq << " of " << head.seq << ")";
  if (!owner.empty()) std::cout << ", owner " << printable(owner);
  if (!token.empty()) std::cout << ", token " << printable(token);
  std::cout << ": " << rows->size() << (rows->size() == 1 ? " token" : " tokens") << "\n\n";
  Table table({"ID", "OWNER", "DESCRIPTION", "CREATED", "EXPIRES", "EXPIRED", "VERSION"});
  table.max_width(2, 48);
  for (const TokenRow& row : *rows) {
    const TokenState& s = row.state;
    table.add({s.id, s.owner, s.description, format_rfc3339(s.created_at), format_rfc3339(s.expires_at()),
               yes_no(s.expired(moment)), std::to_string(s.version)});
  }
  table.print(std::cout);
  return kExitOk;
}

}  // namespace tl::admin
