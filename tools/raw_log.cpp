#include "tools/raw_log.hpp"

#include <rocksdb/db.h>

#include <functional>

#include "eventstore/codec.hpp"
#include "tools/chain_check.hpp"

namespace tl::admin {
namespace {

// Opens the database read-only with only the events column family and calls `use` with it.
bool with_events(const std::string& db_dir,
                 const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& use) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, {}}, {"events", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), db_dir, families, &handles, &raw).ok()) return false;
  std::unique_ptr<rocksdb::DB> db(raw);
  use(*db, handles[1]);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  return true;
}

}  // namespace

std::optional<VerifyReport> verify_raw(const std::string& db_dir) {
  VerifyReport report;
  auto fail = [&](std::uint64_t seq, std::string problem) {
    report.ok = false, report.first_bad_seq = seq, report.problem = std::move(problem);
  };
  const bool opened = with_events(db_dir, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events) {
    ChainChecker checker;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, events));
    std::uint64_t expected = 1;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      if (decode_be64(it->key().ToStringView()) != expected) {
        return fail(expected, "record " + std::to_string(expected) + " is missing");
      }
      if (!checker.add(it->value().ToStringView())) return fail(expected, checker.report().problem);
      if (checker.report().last_seq != expected) return fail(expected, "the record names another seq");
      report.events = expected;
      report.head = {expected, checker.report().last_hash};
    }
    if (!it->status().ok()) fail(expected, it->status().ToString());
  });
  if (!opened) return std::nullopt;
  return report;
}

}  // namespace tl::admin
