#include "projections/audit_csv.hpp"

#include "common/time_format.hpp"

namespace tl {
namespace {

bool starts_formula(std::string_view v) {
  return !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
}

void append_field(std::string& out, std::string_view v) {
  const bool formula = starts_formula(v);
  if (!formula && v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += v;
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

void append_audit_csv_header(std::string& out) {
  out += kAuditCsvHeader;
  out += "\r\n";
}

void append_audit_csv_row(std::string& out, const Record& r) {
  const std::string fields[] = {std::to_string(r.seq),
                                format_rfc3339(r.at),
                                std::string(event_type(r.event)),
                                r.stream,
                                std::to_string(r.version),
                                r.actor.user,
                                std::string(r.actor.stored_via()),
                                r.source.ip,
                                r.source.user_agent,
                                r.source.request_id,
                                r.token_id,
                                r.owner,
                                r.hash,
                                r.source.client_request_id,
                                r.source.peer};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) out.push_back(',');
    append_field(out, fields[i]);
  }
  out += "\r\n";
}

}  // namespace tl
