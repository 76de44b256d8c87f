// What the projections keep beside the log: named key-value families (the audit index, the saved
// projection state), asked for when the log is opened (StoreOptions::extra_column_families) and
// addressed by those names. Nothing here says how they are stored; eventstore/event_store.hpp
// keeps them in the RocksDB database of the log, so that index entries written with a batch of
// records (IndexWriter) land atomically with them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace tl {

// Writes collected for one atomic write. Family names must be ones the store was opened with
// (asking for another is a programming error).
class IndexBatch {
 public:
  virtual ~IndexBatch() = default;
  virtual void put(std::string_view family, std::string_view key, std::string_view value) = 0;
  virtual void erase(std::string_view family, std::string_view key) = 0;
};

// A batch the caller fills and hands to StateStore::write; reusable after clear().
class StateBatch : public IndexBatch {
 public:
  virtual void clear() = 0;
};

// Which keys a scan visits and how it reads them: `sequential` for one long pass over a whole
// family (reads ahead and keeps the pass out of the block cache), otherwise as point reads do.
struct StateScan {
  std::string_view prefix;  // only keys starting with it ("" for every key)
  std::string_view from;    // starting at the first key >= from (one seek; "" for the first key)
  bool sequential = false;
};

// One key and its value, copied out of the store.
struct StateEntry {
  std::string key;
  std::string value;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The value of `key`, nullopt when absent. Errors: unavailable when the store cannot be read.
  virtual Result<std::optional<std::string>> get(std::string_view family, std::string_view key) const = 0;
  // True when `key` exists.
  virtual Result<bool> has(std::string_view family, std::string_view key) const = 0;
  // Calls `visit(key, value)` for each key of the family (within `how.prefix`) in byte order,
  // until it returns false. The views are valid during the call only.
  virtual Status scan(std::string_view family, const StateScan& how,
                      const std::function<bool(std::string_view, std::string_view)>& visit) const = 0;
  // The greatest key of the family that starts with `prefix` and is at most 16 bytes of 0xff
  // longer (index keys end in a be64), or nullopt; one seek.
  virtual Result<std::optional<std::string>> last_key_with_prefix(std::string_view family,
                                                                  std::string_view prefix) const = 0;

  // The greatest key k of the family with `prefix` <= k <= `bound`, and its value, or nullopt;
  // one seek (RocksDB's SeekForPrev). Errors: unavailable.
  virtual Result<std::optional<StateEntry>> last_entry_at_or_before(std::string_view family, std::string_view prefix,
                                                                    std::string_view bound) const = 0;

  // An empty batch for write().
  virtual std::unique_ptr<StateBatch> new_batch() const = 0;
  // Writes the batch atomically; not synced (projection state is rebuilt from the log when lost).
  // Errors: unavailable (nothing written).
  virtual Status write(StateBatch& batch) = 0;
  // Replaces the value of `key` only where the key exists, in one step as other writers see it
  // (PostgreSQL: one UPDATE; RocksDB: one process writes): true when replaced, false when absent.
  // For a row another process may delete, such as a shared session a sign-out ended: a later
  // refresh must not bring it back. Errors: unavailable (nothing written).
  virtual Result<bool> replace_existing(std::string_view family, std::string_view key, std::string_view value) = 0;
  // Deletes every key k with from <= k < to.
  virtual Status erase_range(std::string_view family, std::string_view from, std::string_view to) = 0;
  // Moves what was written to the family into its files, so the next open need not replay it
  // (a hint: failures are ignored).
  virtual void flush(std::string_view family) = 0;
};

}  // namespace tl
