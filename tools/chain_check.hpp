// Checks a sequence of stored event records without the database: each record's own hash,
// and the prev_hash link wherever two records follow each other by seq. Used by
// `verify --file` on an export written by `audit --format jsonl`, and by `verify --data` when
// the database is too damaged for the event store to open.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/record.hpp"

namespace tl::admin {

struct ChainReport {
  bool ok = true;
  std::uint64_t records = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::string last_hash;
  std::string last_stream;  // the stream and version of the last good record
  std::uint64_t last_version = 0;
  std::uint64_t links_checked = 0;  // pairs of records with consecutive seq
  std::uint64_t gaps = 0;           // places where seq jumps by more than one
  std::uint64_t first_gap_after = 0;
  // The first bad record: its position (1-based line or record number) and, when it could be
  // read, its seq.
  std::uint64_t bad_position = 0;
  std::uint64_t bad_seq = 0;
  std::string problem;

  // Every record from seq 1 on, without gaps: the whole chain up to last_seq.
  bool complete() const { return ok && records > 0 && first_seq == 1 && gaps == 0; }
};

class ChainChecker {
 public:
  // Checks the next record; false (and the report names it) at the first bad one.
  bool add(std::string_view raw);
  const ChainReport& report() const { return report_; }
  // The last good record, decoded (for checks beyond the chain, e.g. a manifest's filters).
  const Record& last_record() const { return last_; }

 private:
  bool fail(std::uint64_t seq, std::string problem);

  ChainReport report_;
  Record last_;
};

}  // namespace tl::admin
