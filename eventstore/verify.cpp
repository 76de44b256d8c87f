// The chain check (verify), apart from the appender, so it can be read and reviewed on its own.
#include "eventstore/chain_link.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_store_impl.hpp"

namespace tl {

VerifyReport EventStore::verify(const std::function<void(std::uint64_t)>& progress) const {
  return verify_from(1, kGenesisHash, progress);
}

VerifyReport EventStore::verify_from(std::uint64_t from, const std::string& prev_hash,
                                     const std::function<void(std::uint64_t)>& progress, const RecordCheck& also,
                                     const std::function<bool()>& pause) const {
  VerifyReport report;
  report.head = {from - 1, prev_hash};
  auto fail = [&](std::uint64_t seq, std::string problem, std::string kind = "chain") {
    report.ok = false;
    report.first_bad_seq = seq;
    report.kind = std::move(kind);
    report.problem = std::move(problem);
    return report;
  };
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->cf("events")));
  std::uint64_t expected = from;
  for (it->Seek(encode_be64(from)); it->Valid(); it->Next(), ++expected) {
    const std::uint64_t key_seq = decode_be64(it->key().ToStringView());
    if (key_seq != expected) return fail(expected, "record " + std::to_string(expected) + " is missing");
    CheckedRecord checked = check_record_bytes(it->value().ToStringView());
    if (!checked.record) return fail(expected, std::move(checked.problem));
    const std::optional<Record>& record = checked.record;
    if (record->seq != expected) return fail(expected, "the record names another seq");
    // The one chain rule (chain_link.hpp), as the admin tool's checks of exports and raw logs use it.
    if (std::string problem = ChainLink{report.head.seq, report.head.hash}.problem(*record); !problem.empty()) {
      return fail(expected, std::move(problem));
    }
    std::string indexed;
    const auto s =
        impl_->db->Get({}, impl_->cf("streams"), stream_index_key(record->stream, record->version), &indexed);
    if (!s.ok() || decode_be64(indexed) != expected) {
      return fail(
          expected,
          "stream " + record->stream + " version " + std::to_string(record->version) + " does not point at this record",
          "stream_index");
    }
    if (also.check) {
      if (std::string problem = also.check(*record); !problem.empty()) return fail(expected, problem, also.kind);
    }
    report.head = {expected, record->hash};
    report.events = expected - from + 1;
    if (progress && expected % 100000 == 0) progress(expected);
    if (pause && expected % 1024 == 0 && !pause()) return report;
  }
  if (!it->status().ok()) return fail(expected, it->status().ToString());
  return report;
}

}  // namespace tl
