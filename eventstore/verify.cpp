// The chain check (verify), apart from the appender: it reads only through the store's public
// handles, so it can be read and reviewed on its own.
#include <rocksdb/db.h>

#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"

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
  std::unique_ptr<rocksdb::Iterator> it(db().NewIterator({}, column_family("events")));
  std::uint64_t expected = from;
  for (it->Seek(encode_be64(from)); it->Valid(); it->Next(), ++expected) {
    const std::uint64_t key_seq = decode_be64(it->key().ToStringView());
    if (key_seq != expected) return fail(expected, "record " + std::to_string(expected) + " is missing");
    const auto raw = it->value().ToStringView();
    if (!record_hash_matches(raw)) return fail(expected, "the record's bytes do not match its hash");
    auto record = decode_record(raw);
    if (!record) return fail(expected, record.error().message);
    if (record->seq != expected) return fail(expected, "the record names another seq");
    if (record->prev_hash != report.head.hash) return fail(expected, "prev_hash does not link to the record before");
    std::string indexed;
    const auto s = db().Get({}, column_family("streams"), stream_index_key(record->stream, record->version), &indexed);
    if (!s.ok() || decode_be64(indexed) != expected) {
      return fail(expected,
                  "stream " + record->stream + " version " + std::to_string(record->version) +
                      " does not point at this record",
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

namespace tl {

Status EventStore::scan_side(const std::string& family,
                             const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db().NewIterator(scan, column_family(family)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return Error::unavailable(family + ": " + it->status().ToString());
  return {};
}

Result<bool> EventStore::side_has(const std::string& family, const std::string& key) const {
  std::string value;
  const auto s = db().Get({}, column_family(family), key, &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return Error::unavailable(family + ": " + s.ToString());
  return true;
}

Result<std::optional<std::string>> EventStore::last_key_with_prefix(const std::string& family,
                                                                     const std::string& prefix) const {
  std::unique_ptr<rocksdb::Iterator> it(db().NewIterator({}, column_family(family)));
  it->SeekForPrev(prefix + std::string(16, '\xff'));
  if (!it->status().ok()) return Error::unavailable(family + ": " + it->status().ToString());
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::optional<std::string>{};
  return std::optional<std::string>{it->key().ToString()};
}

}  // namespace tl
