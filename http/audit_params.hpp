// The audit filters of the query string (token_id, actor, type, since, until, after_seq),
// shared by the audit query, its export and its live stream.
#pragma once

#include "domain/result.hpp"
#include "http/call.hpp"
#include "projections/audit_index.hpp"

namespace tl {

Result<AuditFilter> parse_audit_filter(const Call& call);
Result<std::uint64_t> parse_count(const std::string& text, std::string_view name);

}  // namespace tl
