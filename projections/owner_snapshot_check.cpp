#include "projections/owner_snapshot_check.hpp"

#include <algorithm>

#include "projections/owner_snapshots.hpp"
#include "projections/read_model.hpp"

namespace tl {

Result<std::unique_ptr<OwnerSnapshotCheck>> OwnerSnapshotCheck::load(const EventLog& store) {
  std::unique_ptr<OwnerSnapshotCheck> check(new OwnerSnapshotCheck(store));
  std::string bad;
  auto scanned = store.state().scan(ReadModel::kStateFamily, {.prefix = OwnerSnapshots::kPrefix, .sequential = true},
                                    [&](std::string_view key, std::string_view) {
                                      auto parsed = OwnerSnapshots::parse_key(key);
                                      if (!parsed) {
                                        bad = std::string(key);
                                        return false;
                                      }
                                      check->at_.emplace_back(parsed->second, std::move(parsed->first));
                                      return true;
                                    });
  if (!scanned) return Error::unavailable("owner snapshots: " + scanned.error().message);
  if (!bad.empty()) return Error::internal("owner snapshots: a key that is not a snapshot's: " + bad);
  std::sort(check->at_.begin(), check->at_.end());
  return check;
}

std::uint64_t OwnerSnapshotCheck::first_past(std::uint64_t head) const {
  auto it = std::partition_point(at_.begin(), at_.end(), [&](const auto& at) { return at.first <= head; });
  return it == at_.end() ? 0 : it->first;
}

std::string OwnerSnapshotCheck::check(const Record& record) {
  // The snapshots fold every record; an auditor's as_of folds the records naming the owner. The
  // two agree only while each token record names its token's owner.
  if (is_token_event(record.event)) {
    if (auto owner = table_.owner_of(record.stream); owner && *owner != record.owner) {
      return "a record of token " + record.stream + " names owner \"" + record.owner + "\", the token is " + *owner +
             "'s: point-in-time lists and the owner snapshots would differ";
    }
  }
  table_.apply(record);
  for (; next_ < at_.size() && at_[next_].first <= record.seq; ++next_) {
    const auto& [seq, owner] = at_[next_];
    if (seq < record.seq) continue;  // cannot happen when the walk starts at seq 1
    if (owner != record.owner) {
      return "an owner snapshot of " + owner + " is at a record " +
             (record.owner.empty() ? std::string("of no owner") : "of " + record.owner) + ": it was added";
    }
    auto stored = store_.state().get(ReadModel::kStateFamily, OwnerSnapshots::key(owner, seq));
    if (!stored) return stored.error().message;
    if (!*stored) continue;  // removed since the keys were read (a rebuild meanwhile)
    auto rows = OwnerSnapshots::decode(**stored);
    if (!rows) return "the owner snapshot of " + owner + " does not decode";
    std::vector<std::string> expected;
    table_.encode_owned(owner, [&](std::string_view encoded) { expected.emplace_back(encoded); });
    bool same = rows->size() == expected.size();
    for (std::size_t i = 0; same && i < rows->size(); ++i) same = TokenTable::encode((*rows)[i]) == expected[i];
    if (!same) {
      return "the owner snapshot of " + owner + " holds " + std::to_string(rows->size()) +
             " tokens that differ from the " + std::to_string(expected.size()) + " the log gives: it was altered";
    }
  }
  return {};
}

}  // namespace tl
