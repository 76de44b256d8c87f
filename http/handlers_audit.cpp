// Audit (group auditors): the trail, filtered and paged, and the chain's verification.
#include <charconv>

#include "eventstore/json_writer.hpp"
#include "eventstore/time_format.hpp"
#include "http/audit_params.hpp"
#include "http/responses.hpp"

namespace tl {
using net::http::status;

Result<std::uint64_t> parse_count(const std::string& text, std::string_view name) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return Error::invalid_field(std::string(name) + ": must be a whole number.");
  }
  return n;
}

namespace {

Result<std::optional<Timestamp>> parse_time(const Call& call, std::string_view name) {
  const std::string* text = call.query_param(name);
  if (text == nullptr) return std::optional<Timestamp>{};
  auto t = parse_rfc3339(*text);
  if (!t) return Error::invalid_field(std::string(name) + ": must be an RFC 3339 time, like 2026-11-27T18:04:14Z.");
  return std::optional<Timestamp>{*t};
}

}  // namespace

Result<AuditFilter> parse_audit_filter(const Call& call) {
  AuditFilter filter;
  for (auto [name, field] : {std::pair{"token_id", &filter.token_id}, std::pair{"actor", &filter.actor},
                             std::pair{"type", &filter.type}}) {
    if (const auto* v = call.query_param(name)) *field = *v;
  }
  auto since = parse_time(call, "since");
  if (!since) return std::move(since).error();
  auto until = parse_time(call, "until");
  if (!until) return std::move(until).error();
  filter.since = *since;
  filter.until = *until;
  if (const auto* v = call.query_param("after_seq")) {
    auto n = parse_count(*v, "after_seq");
    if (!n) return std::move(n).error();
    filter.after_seq = *n;
  }
  return filter;
}

net::Response handle_audit_query(App& app, Call& call) {
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
  return json_response(status::ok, events_json(page->events, trailer));
}

net::Response handle_audit_verify(App& app, Call&) {
  const IntegrityReport report = check_integrity(app.store, app.integrity.check_options());
  return json_response(status::ok, integrity_report_json(report, app.signer.public_key_hex(), true));
}

net::Response handle_list_checkpoints(App& app, Call&) {
  auto checkpoints = list_checkpoints(app.store);
  if (!checkpoints) return error_response(checkpoints.error());
  JsonWriter w;
  w.begin_object().key("public_key").value(app.signer.public_key_hex()).key("checkpoints").begin_array();
  for (const auto& c : *checkpoints) w.raw(c.raw);
  w.end_array().end_object();
  return json_response(status::ok, std::move(w).str());
}

net::Response handle_create_checkpoint(App& app, Call&) {
  auto checkpoint = app.integrity.sign_checkpoint();
  if (!checkpoint) return error_response(checkpoint.error());
  return json_response(status::created, checkpoint->raw);
}

}  // namespace tl
