#include "tools/chain_check.hpp"

#include "eventstore/chain_link.hpp"

namespace tl::admin {

bool ChainChecker::fail(std::uint64_t seq, std::string problem) {
  report_.ok = false;
  report_.bad_seq = seq;
  report_.problem = std::move(problem);
  return false;
}

bool ChainChecker::add(std::string_view raw) {
  if (!report_.ok) return false;
  const std::uint64_t position = report_.records + 1;
  report_.bad_position = position;
  if (raw.empty()) return fail(0, "empty line where a record should be");
  CheckedRecord checked = check_record_bytes(raw);
  if (!checked.record) return fail(checked.seq, std::move(checked.problem));
  Record& record = *checked.record;
  const std::uint64_t seq = record.seq;
  if (report_.records == 0) {
    report_.first_seq = seq;
    if (auto problem = first_record_problem(record); !problem.empty()) return fail(seq, std::move(problem));
  } else if (auto problem = ChainLink{report_.last_seq, report_.last_hash}.problem(record); !problem.empty()) {
    return fail(seq, std::move(problem));
  } else if (seq == report_.last_seq + 1) {
    ++report_.links_checked;
  } else if (report_.gaps++ == 0) {
    report_.first_gap_after = report_.last_seq;
  }
  report_.records = position;
  report_.bad_position = 0;
  report_.last_seq = seq;
  report_.last_hash = record.hash;
  report_.last_stream = record.stream;
  report_.last_version = record.version;
  last_ = std::move(record);
  return true;
}

}  // namespace tl::admin
