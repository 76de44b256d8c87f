// The token table: every live token by id, by owner (creation order) and by the lookup hash
// of its code. Held in memory, folded from the log, saved with its checkpoint by ReadModel.
// Deleted tokens leave the table: to every reader they no longer exist.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/token.hpp"
#include "eventstore/record.hpp"

namespace tl {

struct TokenRow {
  TokenState state;             // code_sealed is not kept: it is read from the log on reveal
  std::uint64_t created_seq = 0;  // the TokenCreated record, which holds the sealed code
};

class TokenTable {
 public:
  // Folds one record; records of other streams are ignored.
  void apply(const Record& record);

  std::optional<TokenRow> get(const std::string& id) const;
  std::optional<TokenRow> find_by_lookup(const std::string& lookup_hash) const;
  // The owner's tokens, newest first.
  std::vector<TokenRow> list(const std::string& owner) const;
  std::size_t live_count(const std::string& owner, Timestamp now) const;
  std::size_t size() const;
  // The rows whose state `keep` accepts (called under the table's read lock: keep it cheap).
  std::vector<TokenRow> select(const std::function<bool(const TokenState&)>& keep) const;

  // A create that is on its way to the log holds a place against the owner's limit, so that
  // concurrent creates cannot pass it together. Returns false when the limit is reached.
  bool reserve(const std::string& owner, Timestamp now, std::size_t limit);
  void release(const std::string& owner);

  // For ReadModel's checkpoints: rows changed or removed since the last take.
  struct Changes {
    std::vector<TokenRow> upserted;
    std::vector<std::string> removed;
  };
  Changes take_changes();
  void load_row(TokenRow row);
  void clear();
  // Every row, by id; for comparing a rebuilt table with a folded one.
  std::vector<TokenRow> all() const;

  static std::string encode(const TokenRow& row);
  static std::optional<TokenRow> decode(std::string_view bytes);

 private:
  void insert_locked(TokenRow row);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, TokenRow> by_id_;
  std::unordered_map<std::string, std::string> by_lookup_;
  std::unordered_map<std::string, std::vector<std::string>> by_owner_;
  std::unordered_map<std::string, std::size_t> reserved_;
  std::unordered_set<std::string> dirty_;
};

}  // namespace tl
