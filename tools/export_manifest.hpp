// The manifest written beside an audit export (GET /api/v1/audit/export/manifest,
// `tokenledger-admin audit --manifest F`), read by `verify --file --manifest`. One JSON object:
//   {"manifest":"tokenledger-audit-export","version":1,"generated_at":"…","filters":{…},
//    "head":{"seq":N,"hash":"<hex>"},"count":C,"first_seq":F|null,"last_seq":L|null,
//    "checkpoint":{seq,hash,at,prev,public_key,signature}|null}
// filters holds only the filters given, among token_id, actor, type, since, until, after_seq and
// head_seq, each with the value as given (a string; a seq may also be a JSON number).
// The manifest is not signed: its filters are a claim that every record of the export is checked
// against (manifest_filter_breach), but a record the filter matches and the export lacks cannot be
// told from the file alone; only `verify --data` can.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/record.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "projections/audit_index.hpp"

namespace tl::admin {

struct ExportManifest {
  std::vector<std::pair<std::string, std::string>> filters;  // name and value, as given
  AuditFilter filter;  // the same, parsed; since/until rounded up to the millisecond (PreciseTime::ceil)
  std::uint64_t head_seq = 0;
  std::string head_hash;
  std::uint64_t count = 0;
  std::optional<std::uint64_t> first_seq, last_seq;  // null in the manifest: an empty export
  std::optional<SignedCheckpoint> checkpoint;

  // Filtered: some filter other than head_seq (which only pins the head the export ends at).
  bool filtered() const;
};

// Reads and checks the shape of a manifest. Throws UsageError when the file cannot be read,
// Failure naming the field when it is not a version-1 manifest.
ExportManifest read_manifest(const std::string& path);

// Which of the manifest's filters `record` breaks, as the export route applies them (token_id,
// actor = the acting user, type = the event type, since <= at < until at full precision,
// after_seq < seq, seq <= head_seq, seq <= the manifest's head): e.g. `"actor":"alice" (the
// record's actor is "bob")`; empty when it matches them all.
std::string manifest_filter_breach(const ExportManifest& manifest, const Record& record);

}  // namespace tl::admin
