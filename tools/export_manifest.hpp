// The manifest written beside an audit export (GET /api/v1/audit/export/manifest,
// `tokenledger-admin audit --manifest F`), read by `verify --file --manifest`. One JSON object:
//   {"manifest":"tokenledger-audit-export","version":1,"generated_at":"…","filters":{…},
//    "head":{"seq":N,"hash":"<hex>"},"count":C,"first_seq":F|null,"last_seq":L|null,
//    "checkpoint":{seq,hash,at,prev,public_key,signature}|null}
// filters holds only the filters given, among token_id, actor, type, since, until, after_seq and
// head_seq.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/signed_checkpoints.hpp"

namespace tl::admin {

struct ExportManifest {
  std::vector<std::string> filters;  // the names of the filters given
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

}  // namespace tl::admin
