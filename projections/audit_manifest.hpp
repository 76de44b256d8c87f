// The manifest of an audit export: one JSON object kept beside the export (never inside it, so
// the JSON Lines stay exactly the stored records) that says which head the export was bounded
// by, which filters made it, how many records it holds and the newest signed checkpoint it can
// be checked against. Written by GET /api/v1/audit/export/manifest and `tokenledger-admin audit
// --manifest`; read by `tokenledger-admin verify --file E --manifest M`.
//
//   {"manifest":"tokenledger-audit-export","version":1,"generated_at":"<RFC 3339>",
//    "filters":{<only the filters given, as given: token_id, actor, type, since, until,
//                after_seq, head_seq>},
//    "head":{"seq":N,"hash":"<hex>"},"count":C,"first_seq":F|null,"last_seq":L|null,
//    "checkpoint":<the newest signed checkpoint at or before head.seq, as stored, or null>}
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/audit_index.hpp"

namespace tl {

inline constexpr const char* kExportManifestName = "tokenledger-audit-export";
inline constexpr int kExportManifestVersion = 1;

// The head an export is bounded at: the record at `head_seq` (its seq and chain hash; seq 0 is
// the genesis hash), or the log's head when none is given. invalid_field naming head_seq when it
// lies past the log's head.
Result<Head> export_head(const EventLog& store, std::optional<std::uint64_t> head_seq);

// The manifest (format above) of the export that `filter` selects up to `head`; `given` holds
// the filters as the caller wrote them, in order. Reads the whole selection once to count it.
Result<std::string> export_manifest(const EventLog& store, const AuditIndex& index, AuditFilter filter,
                                    const Head& head, const std::vector<std::pair<std::string, std::string>>& given,
                                    Timestamp generated_at);

}  // namespace tl
