// The token table: every live token by id, by owner (creation order) and by the lookup hash
// of its code. Held in memory, folded from the log, saved with its checkpoint by ReadModel.
// Deleted tokens leave the table: to every reader they no longer exist.
//
// Sized for a million live tokens (issue 5, row 6): rows live packed in one vector (slots reused
// through a free list); ids and lookup hashes are packed to 16 and 32 bytes (token_keys.hpp);
// owners are interned; the id and lookup indices are flat hash sets of slot numbers whose hash
// and equality read the key from the row, so an index costs a few bytes per token. Readers get
// TokenRow values built on demand.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/token.hpp"
#include "eventstore/record.hpp"
#include "projections/token_keys.hpp"
#include "projections/token_row_codec.hpp"

namespace tl {

struct TokenRow {
  TokenState state;               // code_sealed is not kept: it is read from the log on reveal
  std::uint64_t created_seq = 0;  // the TokenCreated record, which holds the sealed code
};

namespace token_table_detail {

// One live token as stored. The strings that do not pack live in `text`.
struct Slot {
  enum Flag : std::uint8_t {
    kLive = 1,          // the slot holds a token (else it is on the free list)
    kIdPacked = 2,      // `id` holds the id, else text part kRawId does
    kLookupPacked = 4,  // `lookup` holds the lookup hash, else text part kRawLookup does
    kHasLastUsed = 8,
    kDirty = 16,  // changed since the last take_changes, and listed in dirty_
  };
  enum TextPart : std::size_t { kDescription = 0, kLastUsedIp = 1, kRawId = 2, kRawLookup = 3 };

  PackedId id{};
  PackedLookup lookup{};
  std::uint64_t created_seq = 0;
  std::uint64_t version = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t last_used_ms = 0;
  PackedText text;
  std::uint32_t owner = 0;  // index into the interned owners
  std::int32_t timeout_days = 0;
  std::uint8_t expiry_notices = 0;
  std::uint8_t flags = 0;

  bool has(Flag f) const noexcept { return (flags & f) != 0; }
};

// A key as the indices compare it: packed when it has the service's form, raw otherwise.
template <typename Packed>
struct Key {
  std::optional<Packed> packed;
  std::string_view raw;  // set when not packed
};
using IdKey = Key<PackedId>;
using LookupKey = Key<PackedLookup>;

// Hash and equality over slot numbers that read the key from the slot (is_transparent: a
// lookup passes a Key without building a row).
template <typename Traits>
struct SlotHash {
  using is_transparent = void;
  const std::vector<Slot>* slots = nullptr;
  std::size_t operator()(std::uint32_t slot) const noexcept { return Traits::hash(Traits::key((*slots)[slot])); }
  std::size_t operator()(const typename Traits::KeyType& key) const noexcept { return Traits::hash(key); }
};
template <typename Traits>
struct SlotEqual {
  using is_transparent = void;
  const std::vector<Slot>* slots = nullptr;
  bool operator()(std::uint32_t a, std::uint32_t b) const noexcept {
    return Traits::equal(Traits::key((*slots)[a]), Traits::key((*slots)[b]));
  }
  bool operator()(const typename Traits::KeyType& k, std::uint32_t b) const noexcept {
    return Traits::equal(k, Traits::key((*slots)[b]));
  }
  bool operator()(std::uint32_t a, const typename Traits::KeyType& k) const noexcept {
    return Traits::equal(Traits::key((*slots)[a]), k);
  }
};

struct IdTraits {
  using KeyType = IdKey;
  static IdKey key(const Slot& s) noexcept;
  static std::size_t hash(const IdKey& k) noexcept;
  static bool equal(const IdKey& a, const IdKey& b) noexcept;
};
struct LookupTraits {
  using KeyType = LookupKey;
  static LookupKey key(const Slot& s) noexcept;
  static std::size_t hash(const LookupKey& k) noexcept;
  static bool equal(const LookupKey& a, const LookupKey& b) noexcept;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

}  // namespace token_table_detail

class TokenTable {
 public:
  TokenTable();
  TokenTable(const TokenTable&) = delete;
  TokenTable& operator=(const TokenTable&) = delete;

  // Folds one record; records of other streams are ignored.
  void apply(const Record& record);

  std::optional<TokenRow> get(const std::string& id) const;
  std::optional<TokenRow> find_by_lookup(const std::string& lookup_hash) const;
  // The owner's tokens, newest (highest created_seq) first.
  std::vector<TokenRow> list(const std::string& owner) const;
  std::size_t live_count(const std::string& owner, Timestamp now) const;
  // The owner of the live token `id`, nullopt when there is none.
  std::optional<std::string> owner_of(const std::string& id) const;
  // How many rows the owner has (expired ones included), O(1).
  std::size_t owned(const std::string& owner) const;
  // Each of the owner's rows in checkpoint encoding (encode), oldest first, without building a
  // TokenRow: what an owner snapshot (owner_snapshots.hpp) holds.
  void encode_owned(const std::string& owner, const std::function<void(std::string_view encoded)>& visit) const;
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
  // The same, handed over one row at a time and already encoded, so a checkpoint after a
  // rebuild does not build a TokenRow for every token at once. Called under the write lock.
  void take_changes(const std::function<void(const std::string& id, const std::string& encoded)>& upserted,
                    const std::function<void(const std::string& id)>& removed);
  // A row from a checkpoint: replaces a row with the same id, is not a change to save.
  void load_row(TokenRow row);
  // The same from its encoded bytes (either format), without building a TokenRow: what
  // start-up should call for each saved row. False when the bytes do not decode.
  bool load_encoded(std::string_view bytes);
  void clear();
  // Every row, by id; for comparing a rebuilt table with a folded one.
  std::vector<TokenRow> all() const;

  // A checkpoint row. encode writes the compact binary form (token_row_codec.cpp); decode
  // reads it and the JSON form older checkpoints hold.
  static std::string encode(const TokenRow& row);
  static std::optional<TokenRow> decode(std::string_view bytes);

 private:
  using Slot = token_table_detail::Slot;
  using IdIndex = boost::unordered_flat_set<std::uint32_t, token_table_detail::SlotHash<token_table_detail::IdTraits>,
                                            token_table_detail::SlotEqual<token_table_detail::IdTraits>>;
  using LookupIndex =
      boost::unordered_flat_set<std::uint32_t, token_table_detail::SlotHash<token_table_detail::LookupTraits>,
                                token_table_detail::SlotEqual<token_table_detail::LookupTraits>>;

  Slot pack(const token_row_codec::RowView& row);
  token_row_codec::RowView view(const Slot& slot) const;
  TokenRow unpack(const Slot& slot) const;
  std::optional<std::uint32_t> find_id_locked(std::string_view id) const;
  // Inserts a row (replacing one with the same id); marks it dirty when `dirty`.
  void insert_locked(Slot slot, bool dirty);
  void remove_locked(std::uint32_t slot);
  static std::string id_string(const Slot& slot);
  void mark_dirty_locked(std::uint32_t slot);
  std::uint32_t intern_owner_locked(std::string_view owner);
  std::size_t live_count_locked(const std::string& owner, Timestamp now) const;

  mutable std::shared_mutex mutex_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  IdIndex by_id_;
  LookupIndex by_lookup_;
  std::vector<std::string> owners_;
  boost::unordered_flat_map<std::string, std::uint32_t, token_table_detail::StringHash, token_table_detail::StringEqual>
      owner_index_;
  std::vector<std::vector<std::uint32_t>> by_owner_;  // per owner, slots by created_seq ascending
  boost::unordered_flat_map<std::string, std::size_t, token_table_detail::StringHash, token_table_detail::StringEqual>
      reserved_;
  // Dirty tracking: a flag per slot plus the slots flagged (a slot may be listed twice after it
  // was freed and reused; the flag makes take_changes report it once).
  std::vector<std::uint32_t> dirty_;
  boost::unordered_flat_set<std::string, token_table_detail::StringHash, token_table_detail::StringEqual> removed_;
};

}  // namespace tl
