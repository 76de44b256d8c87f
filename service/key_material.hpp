// Key material of a data directory (issue 11; README "Keys"). master.key seals every token's
// code, signing.key signs checkpoints of the log's head, introspection.secret is the gateways'
// credential. Each is created at the first start of an empty database and never again: on a
// database with history a missing file is an error naming it and how to restore it, since a new
// key would silently make every code unopenable, every checkpoint "forged", every gateway 401.
#pragma once

#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/token_secrets.hpp"

namespace tl {

// OK when `path` exists, or when the log is empty (it will be created). Otherwise an error naming
// `what`, the file, and how to restore it (from where it was kept, or a backup made with
// --include-keys).
Status require_key_file(const EventStore& store, const std::string& path, std::string_view what);

// The master key's check value against the one recorded in the log (KeyCheckRecorded on stream
// "system:keys"): refused when they differ. When none is recorded yet (an empty database, or one
// made before check values existed) it is recorded now, unless `may_record` is false (read-only).
Status check_master_key(EventStore& store, const TokenSecrets& secrets, const std::string& key_file, bool may_record);

inline constexpr std::string_view kKeyCheckStream = "system:keys";

}  // namespace tl
