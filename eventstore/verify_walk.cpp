#include "eventstore/verify_walk.hpp"

#include "eventstore/chain_link.hpp"

namespace tl {

VerifyWalk::VerifyWalk(std::uint64_t from, const std::string& prev_hash,
                       const std::function<void(std::uint64_t)>& progress, const RecordCheck& also,
                       const std::function<bool()>& pause)
    : from_(from), expected_(from), progress_(progress), also_(also), pause_(pause) {
  report_.head = {from - 1, prev_hash};
}

const VerifyReport& VerifyWalk::fail(std::uint64_t seq, std::string problem, std::string kind) {
  report_.ok = false;
  report_.first_bad_seq = seq;
  report_.kind = std::move(kind);
  report_.problem = std::move(problem);
  return report_;
}

bool VerifyWalk::step(std::uint64_t stored_seq, std::string_view raw,
                      const std::function<bool(const Record&)>& indexed) {
  const std::uint64_t seq = expected_;
  if (stored_seq != seq) {
    fail(seq, "record " + std::to_string(seq) + " is missing");
    return false;
  }
  CheckedRecord checked = check_record_bytes(raw);
  if (!checked.record) {
    fail(seq, std::move(checked.problem));
    return false;
  }
  const Record& record = *checked.record;
  if (record.seq != seq) {
    fail(seq, "the record names another seq");
    return false;
  }
  // The one chain rule (chain_link.hpp), as the admin tool's checks of exports and raw logs use it.
  if (std::string problem = ChainLink{report_.head.seq, report_.head.hash}.problem(record); !problem.empty()) {
    fail(seq, std::move(problem));
    return false;
  }
  if (!indexed(record)) {
    fail(seq,
         "stream " + record.stream + " version " + std::to_string(record.version) + " does not point at this record",
         "stream_index");
    return false;
  }
  if (also_.check) {
    if (std::string problem = also_.check(record); !problem.empty()) {
      fail(seq, std::move(problem), also_.kind);
      return false;
    }
  }
  report_.head = {seq, record.hash};
  report_.events = seq - from_ + 1;
  ++expected_;
  if (progress_ && seq % 100000 == 0) progress_(seq);
  return !(pause_ && seq % 1024 == 0 && !pause_());
}

}  // namespace tl
