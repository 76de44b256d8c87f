// The audit trail as CSV, the one writer of GET /api/v1/audit/export?format=csv and
// `tokenledger-admin audit --format csv`: a header row, then one row per record, each line ended
// by CRLF (RFC 4180). A field is quoted when it holds a comma, a quote, CR or LF, or starts with
// = + - @ (a spreadsheet formula); such a formula gets a ' after the opening quote so that a
// spreadsheet shows it instead of running it.
#pragma once

#include <string>
#include <string_view>

#include "eventstore/record.hpp"

namespace tl {

// The header row without its CRLF. Columns are only ever added at the end, so old readers keep working.
inline constexpr std::string_view kAuditCsvHeader =
    "seq,at,type,stream,version,actor,via,ip,user_agent,request_id,token_id,owner,hash,client_request_id,peer";

// Appends the header row and its CRLF to `out`.
void append_audit_csv_header(std::string& out);
// Appends `r` as one row, in the header's columns, with its CRLF, to `out`.
void append_audit_csv_row(std::string& out, const Record& r);

}  // namespace tl
