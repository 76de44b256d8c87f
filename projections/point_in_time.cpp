#include "projections/point_in_time.hpp"

#include <algorithm>

namespace tl {

Result<std::vector<TokenRow>> tokens_as_of(const EventLog& store, const AsOf& as_of) {
  TokenTable table;
  const std::uint64_t last = as_of.until_seq.value_or(UINT64_MAX);
  auto folded = store.read_range(1, last, [&](const Record& r) {
    if (as_of.until && r.at > *as_of.until) return false;  // times never decrease along the log
    if (!as_of.token_id.empty() && r.token_id != as_of.token_id) return true;
    if (!as_of.owner.empty() && r.owner != as_of.owner) return true;
    table.apply(r);
    return true;
  });
  if (!folded) return std::move(folded).error();
  std::vector<TokenRow> rows = table.all();
  std::sort(rows.begin(), rows.end(),
            [](const TokenRow& a, const TokenRow& b) { return a.created_seq > b.created_seq; });
  return rows;
}

}  // namespace tl
