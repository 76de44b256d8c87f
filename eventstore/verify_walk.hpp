// The walk of EventLog::verify_from, whatever stores the records: a log reads its records in seq
// order and hands each one's stored bytes to step(), with a way to ask whether the record's
// stream index entry points at it. The rules (chain_link.hpp), the hooks (progress, the extra
// RecordCheck, the scrub's pause) and the report are the same for every log.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eventstore/event_log.hpp"

namespace tl {

class VerifyWalk {
 public:
  // From record `from` on, trusting `prev_hash` as the hash of the record before it.
  VerifyWalk(std::uint64_t from, const std::string& prev_hash, const std::function<void(std::uint64_t)>& progress,
             const RecordCheck& also, const std::function<bool()>& pause);

  // The seq the next record must have.
  std::uint64_t expected() const { return expected_; }
  // The record stored under `stored_seq`, with bytes `raw`; `indexed(record)` is true when its
  // stream index entry points at seq expected(). False when the walk ends here: a problem was
  // found (report().ok is false), or pause() asked to stop (the report covers what was walked).
  bool step(std::uint64_t stored_seq, std::string_view raw, const std::function<bool(const Record&)>& indexed);
  // Ends the walk with a problem at `seq` (e.g. the store could not be read).
  const VerifyReport& fail(std::uint64_t seq, std::string problem, std::string kind = "chain");
  const VerifyReport& report() const { return report_; }

 private:
  std::uint64_t from_;
  std::uint64_t expected_;
  const std::function<void(std::uint64_t)>& progress_;
  const RecordCheck& also_;
  const std::function<bool()>& pause_;
  VerifyReport report_;
};

}  // namespace tl
