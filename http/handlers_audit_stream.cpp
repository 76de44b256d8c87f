// The audit trail as a stream: the whole filtered trail as a download (JSON Lines or CSV) with
// its manifest beside it, and the live trail as Server-Sent Events. Both page through the index, so memory stays
// constant however long the trail.
#include <memory>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "http/audit_params.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "projections/audit_csv.hpp"
#include "projections/audit_manifest.hpp"

namespace tl {
namespace {

using net::http::status;

constexpr std::size_t kPage = 500;

// Pages through the filtered trail from the filter's after_seq; `format` writes one record.
template <class Format>
std::function<bool(std::string&)> pager(App& app, AuditFilter filter, Format format) {
  return [&app, filter, format](std::string& out) mutable {
    auto page = app.model.audit().query(filter, kPage);
    if (!page) return false;  // the client sees the body end early; the error is in the log
    for (const Record& r : page->events) format(out, r);
    if (!page->events.empty()) filter.after_seq = page->events.back().seq;
    return page->next_after_seq.has_value();
  };
}

// Asked before each piece of a long body: the caller must still be an auditor with a standing
// session or an active token, or the body ends (a lost access does not keep reading the trail).
std::function<bool()> while_auditor(App& app, const Call& call, std::shared_ptr<void> slot = nullptr) {
  return [check = access_recheck(app, call, kGroupAuditors), slot = std::move(slot)] { return check(now_ms()); };
}

// The filters as the client wrote them, for the manifest, in the order the manifest lists them.
std::vector<std::pair<std::string, std::string>> given_filters(const Call& call) {
  std::vector<std::pair<std::string, std::string>> given;
  for (std::string_view name : kAuditFilterParams) {
    if (const auto* v = call.query_param(name)) given.emplace_back(name, *v);
  }
  if (const auto* v = call.query_param("head_seq")) given.emplace_back("head_seq", *v);
  return given;
}

// The filter of an export or its manifest, bounded at head_seq or, when none is given, at the
// log's head now, so that what is appended while the export streams is not in it.
Result<std::pair<AuditFilter, Head>> bounded_filter(App& app, const Call& call, bool with_format) {
  auto known =
      with_format
          ? only_params(call, {"token_id", "actor", "owner", "type", "since", "until", "after_seq", "head_seq",
                               "format", "bom"})
          : only_params(call, {"token_id", "actor", "owner", "type", "since", "until", "after_seq", "head_seq"});
  if (!known) return std::move(known).error();
  auto filter = parse_audit_filter(call, /*with_head=*/true);
  if (!filter) return std::move(filter).error();
  auto head = export_head(app.store, filter->head_seq);
  if (!head) return std::move(head).error();
  filter->head_seq = head->seq;
  return std::pair{std::move(*filter), std::move(*head)};
}

}  // namespace

Reply handle_audit_export(App& app, Call& call) {
  auto bounded = bounded_filter(app, call, /*with_format=*/true);
  if (!bounded) return error_response(bounded.error());
  auto& [filter, bound] = *bounded;
  const std::string* format = call.query_param("format");
  const std::string chosen = format ? *format : "jsonl";
  const std::string* bom = call.query_param("bom");
  if (bom != nullptr && *bom != "0" && *bom != "1") return error_response(Error::invalid_field("bom: 1 or 0."));
  if (bom != nullptr && *bom == "1" && chosen != "csv") {
    return error_response(Error::invalid_field("bom: only with format=csv (a JSON Lines export never has one)."));
  }
  net::Response head{status::ok, 11};
  // The manifest fetched with head_seq=N describes exactly this export.
  head.set("Tokenledger-Export-Head", "seq=" + std::to_string(bound.seq) + ", hash=" + bound.hash);
  StreamBody body;
  if (chosen == "jsonl") {
    body = StreamBody{"application/x-ndjson; charset=utf-8", pager(app, filter, [](std::string& out, const Record& r) {
                        out += r.raw;
                        out.push_back('\n');
                      })};
    head.set(net::http::field::content_disposition, "attachment; filename=\"audit.jsonl\"");
  } else if (chosen == "csv") {
    bool header_written = false;
    const bool with_bom = bom != nullptr && *bom == "1";
    // A timeout change's expiry counts from its token's creation, found by the token index when
    // the export does not hold it.
    auto csv = std::make_shared<AuditCsvRows>(app.model.audit());
    auto rows = pager(app, filter, [csv](std::string& out, const Record& r) { csv->append(out, r); });
    body = StreamBody{"text/csv; charset=utf-8", [header_written, with_bom, rows](std::string& out) mutable {
                        if (!header_written) {
                          if (with_bom) out += kUtf8Bom;
                          append_audit_csv_header(out);
                          header_written = true;
                        }
                        return rows(out);
                      }};
    head.set(net::http::field::content_disposition, "attachment; filename=\"audit.csv\"");
  } else {
    return error_response(Error::invalid_field("format: jsonl or csv."));
  }
  body.allowed = while_auditor(app, call);
  return Streamed{std::move(head), std::move(body)};
}

Reply handle_audit_export_manifest(App& app, Call& call) {
  auto bounded = bounded_filter(app, call, /*with_format=*/false);
  if (!bounded) return error_response(bounded.error());
  auto& [filter, bound] = *bounded;
  auto manifest = export_manifest(app.store, app.model.audit(), filter, bound, given_filters(call), call.now);
  if (!manifest) return error_response(manifest.error());
  return json_response(status::ok, std::move(*manifest));
}

Reply handle_audit_stream(App& app, Call& call) {
  auto known = only_params(call, {"token_id", "actor", "owner", "type", "since", "until", "after_seq"});
  if (!known) return error_response(known.error());
  auto filter = parse_audit_filter(call);
  if (!filter) return error_response(filter.error());
  // A reconnecting EventSource sends the last id it saw; it wins over the query string.
  if (std::string_view last = call.req["Last-Event-ID"]; !last.empty()) {
    auto n = parse_seq(std::string(last), "Last-Event-ID");
    if (!n) return error_response(n.error());
    filter->after_seq = *n;
  }
  // Each stream holds a connection for as long as it is open: a few per user, so that one user
  // (or one leaked code) cannot take the server's connections.
  auto slot = app.streams.acquire(call.ctx.actor.user, app.settings.max_streams_per_user);
  if (!slot) {
    auto res = error_response(Error::rate_limited("You hold " + std::to_string(app.settings.max_streams_per_user) +
                                                  " audit streams open, the most one user may; close one first."));
    res.set(net::http::field::retry_after, "5");
    return res;
  }
  auto descriptions = std::make_shared<TokenDescriptions>(app.store);
  auto events = pager(app, *filter, [descriptions](std::string& out, const Record& r) {
    out += "id: " + std::to_string(r.seq) + "\nevent: " + std::string(event_type(r.event)) + "\ndata: ";
    append_record_json(out, r, descriptions->at(r));  // readers' view; the export keeps the stored bytes
    out += "\n\n";
  });
  net::Response head{status::ok, 11};
  head.set("X-Accel-Buffering", "no");
  return Streamed{std::move(head),
                  StreamBody{"text/event-stream", std::move(events), true, while_auditor(app, call, std::move(slot))}};
}

}  // namespace tl
