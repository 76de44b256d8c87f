// The chain check (verify) of the embedded log, apart from the appender, so it can be read and
// reviewed on its own; the rules are VerifyWalk's (verify_walk.hpp).
#include "eventstore/event_store_impl.hpp"
#include "eventstore/verify_walk.hpp"

namespace tl {

VerifyReport EventStore::verify(const std::function<void(std::uint64_t)>& progress) const {
  return verify_from(1, kGenesisHash, progress);
}

VerifyReport EventStore::verify_from(std::uint64_t from, const std::string& prev_hash,
                                     const std::function<void(std::uint64_t)>& progress, const RecordCheck& also,
                                     const std::function<bool()>& pause) const {
  VerifyWalk walk(from, prev_hash, progress, also, pause);
  auto indexed = [&](const Record& record) {
    std::string seq;
    const auto s = impl_->db->Get({}, impl_->cf("streams"), stream_index_key(record.stream, record.version), &seq);
    return s.ok() && decode_be64(seq) == walk.expected();
  };
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->cf("events")));
  for (it->Seek(encode_be64(from)); it->Valid(); it->Next()) {
    if (!walk.step(decode_be64(it->key().ToStringView()), it->value().ToStringView(), indexed)) return walk.report();
  }
  if (!it->status().ok()) return walk.fail(walk.expected(), it->status().ToString());
  return walk.report();
}

}  // namespace tl
