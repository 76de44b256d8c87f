// Audit (group auditors): the trail, filtered and paged, and the chain's verification.
#include <algorithm>
#include <charconv>
#include <limits>

#include "common/time_format.hpp"
#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "eventstore/tree_heads.hpp"
#include "http/audit_params.hpp"
#include "http/responses.hpp"
#include "service/verify_report.hpp"

namespace tl {
using net::http::status;

namespace {

// A client-supplied name quoted for an error message: valid UTF-8, at most 64 bytes, so the
// JSON answer stays valid whatever bytes the query string carried.
std::string printable_name(std::string_view name) { return "'" + to_valid_utf8(name, 64) + "'"; }

}  // namespace

Result<std::uint64_t> parse_count(const std::string& text, std::string_view name) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return Error::invalid_field(std::string(name) + ": must be a whole number.");
  }
  return n;
}

Result<std::uint64_t> parse_seq(const std::string& text, std::string_view name) {
  auto n = parse_count(text, name);
  if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    // 2^64-1 once wrapped to 0 in after_seq + 1 and replayed the trail from seq 1.
    return Error::invalid_field(std::string(name) + ": must be a whole number from 0 to 9223372036854775807.");
  }
  return n;
}

std::string plus_sign_hint(std::string_view text) {
  if (text.find(' ') == std::string_view::npos) return {};
  return " A '+' in a URL query must be sent as %2B (an unencoded '+' reads as a space).";
}

Status only_params(const Call& call, std::initializer_list<std::string_view> route_params) {
  std::string unknown;
  for (const auto& [name, value] : call.query) {
    if (std::find(route_params.begin(), route_params.end(), name) != route_params.end()) continue;
    unknown += (unknown.empty() ? "" : ", ") + printable_name(name);
  }
  if (unknown.empty()) return {};
  std::string accepted;
  for (std::string_view p : route_params) accepted += (accepted.empty() ? "" : ", ") + std::string(p);
  return Error::invalid_field("Unknown query parameter " + unknown + "; this route accepts " + accepted + ".");
}

namespace {

// A window bound: sub-millisecond digits round up, so at >= since and at < until compare at
// full precision against millisecond record times (common/time_format.hpp, PreciseTime).
Result<std::optional<Timestamp>> parse_window_bound(const Call& call, std::string_view name) {
  const std::string* text = call.query_param(name);
  if (text == nullptr) return std::optional<Timestamp>{};
  auto t = parse_rfc3339_precise(*text);
  if (!t) {
    return Error::invalid_field(
        std::string(name) + ": must be an RFC 3339 time, like 2026-11-27T18:04:14Z or 2026-11-27T19:04:14.5+01:00." +
        plus_sign_hint(*text));
  }
  return std::optional<Timestamp>{t->ceil()};
}

Status check_type(const std::string& type) {
  const auto& known = known_event_types();
  if (type.empty() || std::find(known.begin(), known.end(), type) != known.end()) return {};
  std::string list;
  for (const auto& t : known) list += (list.empty() ? "" : ", ") + t;
  return Error::invalid_field("type: " + printable_name(type) + " is not an event type; one of " + list + ".");
}

}  // namespace

Result<AuditFilter> parse_audit_filter(const Call& call, bool with_head) {
  AuditFilter filter;
  for (auto [name, field] : {std::pair{"token_id", &filter.token_id}, std::pair{"actor", &filter.actor},
                             std::pair{"owner", &filter.owner}, std::pair{"type", &filter.type}}) {
    const auto* v = call.query_param(name);
    if (v == nullptr) continue;
    // A manifest echoes the filters as given: they must be text a JSON document can hold.
    if (!utf8_length(*v)) return Error::invalid_field(std::string(name) + ": must be valid UTF-8.");
    *field = *v;
  }
  if (!filter.owner.empty()) filter.owner = canonical_username(filter.owner);  // as records name owners: case-folded
  if (auto known = check_type(filter.type); !known) return std::move(known).error();
  auto since = parse_window_bound(call, "since");
  if (!since) return std::move(since).error();
  auto until = parse_window_bound(call, "until");
  if (!until) return std::move(until).error();
  filter.since = *since;
  filter.until = *until;
  if (const auto* v = call.query_param("after_seq")) {
    auto n = parse_seq(*v, "after_seq");
    if (!n) return std::move(n).error();
    filter.after_seq = *n;
  }
  if (const auto* v = with_head ? call.query_param("head_seq") : nullptr) {
    auto n = parse_seq(*v, "head_seq");
    if (!n) return std::move(n).error();
    filter.head_seq = *n;
  }
  return filter;
}

Reply handle_audit_query(App& app, Call& call) {
  // The router refused parameters this route does not read (kRoutes), repeated and empty ones.
  auto filter = parse_audit_filter(call);
  if (!filter) return error_response(filter.error());
  std::size_t limit = kDefaultAuditLimit;
  if (const auto* v = call.query_param("limit")) {
    auto n = parse_count(*v, "limit");
    if (!n || *n < 1 || *n > kMaxAuditLimit) {
      return error_response(Error::invalid_field("limit: a whole number from 1 to 1000."));
    }
    limit = *n;
  }
  auto page = app.model.audit().query(*filter, limit);
  if (!page) return error_response(page.error());
  std::string trailer = R"(,"next_after_seq":)";
  trailer += page->next_after_seq ? std::to_string(*page->next_after_seq) : "null";
  TokenDescriptions descriptions(app.store);
  return json_response(status::ok, events_json(page->events, trailer, &descriptions));
}

// From the newest full check of this process plus a walk of the records after it; ?full=true
// walks the whole log now (blocking route: on the worker pool), one such walk at a time.
Reply handle_audit_verify(App& app, Call& call) {
  bool full = false;
  if (const std::string* v = call.query_param("full")) {
    if (*v != "true" && *v != "false") return error_response(Error::invalid_field("full: true or false."));
    full = *v == "true";
  }
  if (full) {
    const std::optional<IntegrityReport> report = app.integrity.full_check_now();
    if (!report) {
      const std::string wait = std::to_string(app.integrity.full_check_retry_seconds());
      auto res = error_response(Error::rate_limited(
          "A full check of the log (full=true) is running already; one runs at a time. Try again in " + wait +
          " seconds, or ask without full=true for the answer from the last full check."));
      res.set(net::http::field::retry_after, wait);
      return res;
    }
    const auto last = app.integrity.last_full_check();
    const ScrubBasis scrub{.completed = true,
                           .completed_at = last ? last->completed_at : call.now,
                           .head_seq = report->chain.head.seq,
                           .ok = report->ok,
                           .source = "request"};
    return json_response(status::ok, verify_answer_json(*report, app.signer.public_key_hex(), true, scrub,
                                                        TailWalk{1, report->chain.events}));
  }
  const VerifyAnswer answer = app.integrity.verify_since_last_check();
  return json_response(status::ok, verify_answer_json(answer.report, app.signer.public_key_hex(),
                                                      answer.indexes_checked, answer.scrub, answer.walked));
}

Reply handle_list_checkpoints(App& app, Call&) {
  auto checkpoints = list_checkpoints(app.store);
  if (!checkpoints) return error_response(checkpoints.error());
  auto tree_heads = list_tree_heads(app.store);
  if (!tree_heads) return error_response(tree_heads.error());
  return json_response(status::ok, checkpoints_json(*checkpoints, app.signer.public_key_hex(), &*tree_heads));
}

Reply handle_create_checkpoint(App& app, Call&) {
  auto checkpoint = app.integrity.sign_checkpoint();
  if (!checkpoint) return error_response(checkpoint.error());
  return json_response(status::created, checkpoint->raw);
}

}  // namespace tl
