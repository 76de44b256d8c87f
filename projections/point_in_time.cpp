#include "projections/point_in_time.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "projections/audit_index.hpp"
#include "projections/owner_snapshots.hpp"

namespace tl {
namespace {

bool selected(const AsOf& as_of, const Record& r) {
  return (as_of.token_id.empty() || r.token_id == as_of.token_id) && (as_of.owner.empty() || r.owner == as_of.owner);
}

std::vector<TokenRow> newest_first(const TokenTable& table) {
  std::vector<TokenRow> rows = table.all();
  std::sort(rows.begin(), rows.end(),
            [](const TokenRow& a, const TokenRow& b) { return a.created_seq > b.created_seq; });
  return rows;
}

}  // namespace

Result<std::vector<TokenRow>> tokens_as_of_full(const EventLog& store, const AsOf& as_of) {
  TokenTable table;
  const std::uint64_t last = as_of.until_seq.value_or(UINT64_MAX);
  auto folded = store.read_range(1, last, [&](const Record& r) {
    if (as_of.until && r.at > *as_of.until) return false;  // times never decrease along the log
    if (selected(as_of, r)) table.apply(r);
    return true;
  });
  if (!folded) return std::move(folded).error();
  return newest_first(table);
}

Result<std::vector<TokenRow>> tokens_as_of(const EventLog& store, const AsOf& as_of) {
  if (as_of.owner.empty() && as_of.token_id.empty()) return tokens_as_of_full(store, as_of);
  if (as_of.token_id.empty()) {
    auto complete = AuditIndex::owner_index_complete(store);
    if (!complete) return std::move(complete).error();
    if (!*complete) return tokens_as_of_full(store, as_of);
  }
  std::uint64_t last = std::min(as_of.until_seq.value_or(UINT64_MAX), store.head().seq);
  if (as_of.until) {
    auto bound = last_seq_at_or_before(store, *as_of.until);
    if (!bound) return std::move(bound).error();
    last = std::min(last, *bound);
  }
  TokenTable table;
  auto apply = [&](const Record& r) {
    if (selected(as_of, r)) table.apply(r);
    return true;
  };
  const AuditIndex index(const_cast<EventLog&>(store));  // only read through
  Status folded;
  if (!as_of.token_id.empty()) {
    // A token's records are a few: its index by token, always complete.
    AuditFilter filter{.token_id = as_of.token_id, .head_seq = last};
    if (last > 0) folded = index.scan(filter, apply);
  } else {
    // From the owner's newest snapshot at or before the moment, then its records after it.
    auto snapshot = OwnerSnapshots::nearest(store.state(), as_of.owner, last);
    std::uint64_t after = 0;
    if (snapshot && *snapshot) {
      for (TokenRow& row : (*snapshot)->rows) table.load_row(std::move(row));
      after = (*snapshot)->seq;
    } else if (!snapshot) {
      // One that does not decode costs a longer fold, not the answer (the integrity check names it).
      if (snapshot.error().code != ErrorCode::internal) return std::move(snapshot).error();
      spdlog::warn("{}: this as_of folds the owner's records from seq 1", snapshot.error().message);
    }
    folded = index.scan_owner(as_of.owner, after, last, apply);
  }
  if (!folded) return std::move(folded).error();
  return newest_first(table);
}

}  // namespace tl
