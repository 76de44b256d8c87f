// The JSON documents of the integrity check, each written here once for both the HTTP API and
// the admin tool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/tree_heads.hpp"
#include "service/integrity.hpp"

namespace tl {

// The report as JSON, the one shape of GET /api/v1/audit/verify and `tokenledger-admin verify
// --data --json`: {"ok", "events", "head": {"seq", "hash"}, and when not ok "first_bad_seq", "kind",
// "problem"; "checkpoints": {"ok", "count", "public_key", and when they failed "first_bad_seq",
// "problem"}, "witnessed", "indexes": {"checked", "streams", "audit"}}, then each of `extra` as a
// string member, in order (the admin tool's "data" and "note").
std::string integrity_report_json(const IntegrityReport& report, std::string_view public_key, bool indexes_checked,
                                  const std::vector<std::pair<std::string_view, std::string_view>>& extra = {});

// What a verify answer rests on (GET /api/v1/audit/verify, issue 16): the newest full check of
// this process, or none yet ("pending": the answer then rests on the start-up checks).
struct ScrubBasis {
  bool completed = false;
  Timestamp completed_at{};
  std::uint64_t head_seq = 0;  // the head that check walked to
  bool ok = true;
  std::string source;  // "scrub" or "request" (a ?full=true walk)
};

// The records walked for this answer: from_seq to the head.
struct TailWalk {
  std::uint64_t from_seq = 0;
  std::uint64_t events = 0;
};

// GET /api/v1/audit/verify's answer: integrity_report_json's members, then "scrub": "pending" or
// {"completed_at": RFC 3339 ms, "head_seq", "ok", "source"}, then, when given, "walked":
// {"from_seq", "events"}.
std::string verify_answer_json(const IntegrityReport& report, std::string_view public_key, bool indexes_checked,
                               const ScrubBasis& scrub, const std::optional<TailWalk>& walked);

// The document of GET /api/v1/audit/checkpoints and `tokenledger-admin checkpoints --json`:
// {"public_key": "<hex>", "checkpoints": [each checkpoint exactly as stored, oldest first],
// "tree_heads": [{"tree_size", "root_hash" (hex), "checkpoint" (the C2SP note: body, signatures)},
// smallest first]} (tree_heads only when given).
std::string checkpoints_json(const std::vector<SignedCheckpoint>& checkpoints, std::string_view public_key,
                             const std::vector<TreeHead>* tree_heads = nullptr);

}  // namespace tl
