#include "projections/token_descriptions.hpp"

#include <algorithm>

namespace tl {
namespace {

// The description `event` sets, or nullptr when it sets none.
const std::string* description_set_by(const Event& event) {
  if (const auto* created = std::get_if<TokenCreated>(&event)) return &created->description;
  if (const auto* changed = std::get_if<TokenDescriptionChanged>(&event)) return &changed->description;
  return nullptr;
}

}  // namespace

std::optional<std::string> TokenDescriptions::at(const Record& record) {
  if (record.token_id.empty()) return std::nullopt;
  if (const std::string* set = description_set_by(record.event)) return *set;
  auto found = histories_.find(record.token_id);
  const History* history = found == histories_.end() ? nullptr : &found->second;
  if (history == nullptr || history->read_to < record.seq) history = read(record.token_id);
  if (history == nullptr) return std::nullopt;
  // The last change at or before the record.
  auto after = std::upper_bound(history->changes.begin(), history->changes.end(), record.seq,
                                [](std::uint64_t seq, const auto& change) { return seq < change.first; });
  if (after == history->changes.begin()) return std::nullopt;
  return std::prev(after)->second;
}

const TokenDescriptions::History* TokenDescriptions::read(const std::string& token_id) {
  if (histories_.size() >= kMaxTokens) histories_.clear();
  History history;
  auto read = store_.read_stream(token_id, [&](const Record& r) {
    if (const std::string* set = description_set_by(r.event)) history.changes.emplace_back(r.seq, *set);
    history.read_to = r.seq;
    return true;
  });
  if (!read) {
    histories_.erase(token_id);
    return nullptr;
  }
  return &(histories_[token_id] = std::move(history));
}

}  // namespace tl
