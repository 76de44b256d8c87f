// The events column family read (and, for tamper tests, written) straight from the database,
// without EventStore: for a log the store will not open (the admin tool's raw verify), and for
// tests that damage a stopped server's log on purpose. Keys are seqs; values are the stored
// record bytes (Record::raw).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace tl {

class RawEvents {
 public:
  // Opens the database in `db_dir`: read-only with the events family alone (works beside a
  // running server), or writable with every family (needs the database to itself).
  // Errors: unavailable, with RocksDB's reason.
  static Result<std::unique_ptr<RawEvents>> open(const std::string& db_dir, bool writable);
  ~RawEvents();
  RawEvents(const RawEvents&) = delete;
  RawEvents& operator=(const RawEvents&) = delete;

  // The stored bytes at `seq`, nullopt when there are none.
  Result<std::optional<std::string>> get(std::uint64_t seq) const;
  // Overwrites (or with nullopt deletes) the bytes at `seq`, synced; writable opens only.
  Status put(std::uint64_t seq, std::optional<std::string_view> bytes);
  // Calls `visit(seq, bytes)` for every stored record from seq 1 in key order, reading ahead,
  // until it returns false. The bytes are valid during the call only.
  Status scan(const std::function<bool(std::uint64_t, std::string_view)>& visit) const;

 private:
  struct Impl;
  explicit RawEvents(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
