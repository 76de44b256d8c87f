// The JSON documents of the integrity check, each written here once for both the HTTP API and
// the admin tool.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventstore/signed_checkpoints.hpp"
#include "service/integrity.hpp"

namespace tl {

// The report as JSON, the one shape of GET /api/v1/audit/verify and `tokenledger-admin verify
// --data --json`: {"ok", "events", "head": {"seq", "hash"}, and when not ok "first_bad_seq", "kind",
// "problem"; "checkpoints": {"ok", "count", "public_key", and when they failed "first_bad_seq",
// "problem"}, "witnessed", "indexes": {"checked", "streams", "audit"}}, then each of `extra` as a
// string member, in order (the admin tool's "data" and "note").
std::string integrity_report_json(const IntegrityReport& report, std::string_view public_key, bool indexes_checked,
                                  const std::vector<std::pair<std::string_view, std::string_view>>& extra = {});

// The document of GET /api/v1/audit/checkpoints and `tokenledger-admin checkpoints --json`:
// {"public_key": "<hex>", "checkpoints": [each checkpoint exactly as stored, oldest first]}.
std::string checkpoints_json(const std::vector<SignedCheckpoint>& checkpoints, std::string_view public_key);

}  // namespace tl
