#include "projections/token_table.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace tl {
namespace token_table_detail {
namespace {

std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename Packed>
bool keys_equal(const Key<Packed>& a, const Key<Packed>& b) noexcept {
  if (a.packed.has_value() != b.packed.has_value()) return false;
  return a.packed ? *a.packed == *b.packed : a.raw == b.raw;
}

}  // namespace

IdKey IdTraits::key(const Slot& s) noexcept {
  if (s.has(Slot::kIdPacked)) return {s.id, {}};
  return {std::nullopt, s.text.part(Slot::kRawId)};
}
// A packed id's last 8 bytes are random bits of the ULID; the container mixes them further.
std::size_t IdTraits::hash(const IdKey& k) noexcept {
  return k.packed ? load_u64(k.packed->data() + 8) : std::hash<std::string_view>{}(k.raw);
}
bool IdTraits::equal(const IdKey& a, const IdKey& b) noexcept { return keys_equal(a, b); }

LookupKey LookupTraits::key(const Slot& s) noexcept {
  if (s.has(Slot::kLookupPacked)) return {s.lookup, {}};
  return {std::nullopt, s.text.part(Slot::kRawLookup)};
}
// A packed lookup hash is an HMAC output: any 8 of its bytes are uniformly distributed.
std::size_t LookupTraits::hash(const LookupKey& k) noexcept {
  return k.packed ? load_u64(k.packed->data()) : std::hash<std::string_view>{}(k.raw);
}
bool LookupTraits::equal(const LookupKey& a, const LookupKey& b) noexcept { return keys_equal(a, b); }

}  // namespace token_table_detail

namespace {

using token_table_detail::IdKey;
using token_table_detail::LookupKey;

IdKey id_key(std::string_view id) {
  auto packed = pack_id(id);
  return packed ? IdKey{packed, {}} : IdKey{std::nullopt, id};
}
LookupKey lookup_key(std::string_view hex) {
  auto packed = pack_lookup(hex);
  return packed ? LookupKey{packed, {}} : LookupKey{std::nullopt, hex};
}

std::int64_t to_ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

}  // namespace

TokenTable::TokenTable() : by_id_(0, {&slots_}, {&slots_}), by_lookup_(0, {&slots_}, {&slots_}) {}

TokenTable::Slot TokenTable::pack(const token_row_codec::RowView& v) {
  Slot slot;
  slot.flags = Slot::kLive;
  if (v.id_packed) {
    slot.id = *v.id_packed;
    slot.flags |= Slot::kIdPacked;
  }
  if (v.lookup_packed) {
    slot.lookup = *v.lookup_packed;
    slot.flags |= Slot::kLookupPacked;
  }
  if (v.last_used_ms) {
    slot.flags |= Slot::kHasLastUsed;
    slot.last_used_ms = *v.last_used_ms;
  }
  slot.text = PackedText({v.description, v.last_used_ip, v.id_raw, v.lookup_raw});
  slot.created_seq = v.created_seq;
  slot.version = v.version;
  slot.created_ms = v.created_ms;
  slot.updated_ms = v.updated_ms;
  slot.owner = intern_owner_locked(v.owner);
  slot.timeout_days = static_cast<std::int32_t>(v.timeout_days);
  // Only the three ExpiryNotice bits are ever set.
  slot.expiry_notices = static_cast<std::uint8_t>(v.expiry_notices);
  return slot;
}

token_row_codec::RowView TokenTable::view(const Slot& slot) const {
  const auto text = slot.text.parts();
  token_row_codec::RowView v;
  v.created_seq = slot.created_seq;
  v.version = slot.version;
  v.timeout_days = slot.timeout_days;
  v.created_ms = slot.created_ms;
  v.updated_ms = slot.updated_ms;
  v.expiry_notices = slot.expiry_notices;
  if (slot.has(Slot::kHasLastUsed)) v.last_used_ms = slot.last_used_ms;
  if (slot.has(Slot::kIdPacked)) {
    v.id_packed = slot.id;
  } else {
    v.id_raw = text[Slot::kRawId];
  }
  v.owner = owners_[slot.owner];
  v.description = text[Slot::kDescription];
  if (slot.has(Slot::kLookupPacked)) {
    v.lookup_packed = slot.lookup;
  } else {
    v.lookup_raw = text[Slot::kRawLookup];
  }
  v.last_used_ip = text[Slot::kLastUsedIp];
  return v;
}

TokenRow TokenTable::unpack(const Slot& slot) const { return token_row_codec::to_row(view(slot)); }

std::uint32_t TokenTable::intern_owner_locked(std::string_view owner) {
  if (auto it = owner_index_.find(owner); it != owner_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(owners_.size());
  owners_.emplace_back(owner);
  by_owner_.emplace_back();
  owner_index_.emplace(std::string(owner), index);
  return index;
}

std::optional<std::uint32_t> TokenTable::find_id_locked(std::string_view id) const {
  auto it = by_id_.find(id_key(id));
  if (it == by_id_.end()) return std::nullopt;
  return *it;
}

void TokenTable::mark_dirty_locked(std::uint32_t slot) {
  Slot& s = slots_[slot];
  if (s.has(Slot::kDirty)) return;
  s.flags |= Slot::kDirty;
  dirty_.push_back(slot);
}

void TokenTable::insert_locked(Slot slot, bool dirty) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    slots_[index] = std::move(slot);
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::move(slot));
  }
  if (auto [existing, inserted] = by_id_.insert(index); !inserted) {
    // A second TokenCreated for a live id (or a checkpoint row loaded twice) replaces the row,
    // so no index keeps pointing at the old one.
    remove_locked(*existing);
    by_id_.insert(index);
  }
  Slot& s = slots_[index];
  s.flags &= static_cast<std::uint8_t>(~Slot::kDirty);
  // Two live tokens never share a code; should a log say otherwise, the newer one answers.
  if (auto [it, inserted] = by_lookup_.insert(index); !inserted) {
    by_lookup_.erase(it);
    by_lookup_.insert(index);
  }
  auto& owned = by_owner_[s.owner];
  // Creation order is log order, so a fold appends; a checkpoint loads rows by id, which is
  // nearly creation order, and the rest are placed by created_seq.
  if (owned.empty() || slots_[owned.back()].created_seq <= s.created_seq) {
    owned.push_back(index);
  } else {
    auto pos = std::upper_bound(owned.begin(), owned.end(), s.created_seq, [&](std::uint64_t seq, std::uint32_t other) {
      return seq < slots_[other].created_seq;
    });
    owned.insert(pos, index);
  }
  if (!removed_.empty()) removed_.erase(id_string(s));
  if (dirty) mark_dirty_locked(index);
}

std::string TokenTable::id_string(const Slot& slot) {
  return slot.has(Slot::kIdPacked) ? unpack_id(slot.id) : std::string(slot.text.part(Slot::kRawId));
}

void TokenTable::remove_locked(std::uint32_t index) {
  Slot& s = slots_[index];
  by_id_.erase(index);
  // Only if the lookup entry is this row's (see insert_locked).
  if (auto it = by_lookup_.find(index); it != by_lookup_.end() && *it == index) by_lookup_.erase(it);
  auto& owned = by_owner_[s.owner];
  if (auto pos = std::find(owned.begin(), owned.end(), index); pos != owned.end()) owned.erase(pos);
  removed_.insert(id_string(s));
  s = Slot{};  // frees the text; clears kLive and kDirty, so a stale dirty_ entry is skipped
  free_.push_back(index);
}

void TokenTable::apply(const Record& record) {
  if (!is_token_event(record.event)) return;
  std::unique_lock lock(mutex_);
  if (std::holds_alternative<TokenCreated>(record.event)) {
    TokenRow row;
    row.state.id = record.stream;
    row.created_seq = record.seq;
    tl::apply(row.state, record.event, record.at);
    insert_locked(pack(token_row_codec::view_of(row)), true);
    return;
  }
  auto found = find_id_locked(record.stream);
  if (!found) return;  // an event after deletion cannot exist; nothing to fold
  Slot& s = slots_[*found];
  // The domain's fold on the row's scalars; the strings an event can set are taken from the
  // event below, so no row is unpacked to fold one event.
  TokenState state;
  state.timeout_days = s.timeout_days;
  state.created_at = from_ms(s.created_ms);
  state.updated_at = from_ms(s.updated_ms);
  state.version = s.version;
  if (s.has(Slot::kHasLastUsed)) state.last_used_at = from_ms(s.last_used_ms);
  state.expiry_notices = s.expiry_notices;
  tl::apply(state, record.event, record.at);
  if (state.deleted) {
    remove_locked(*found);
    return;
  }
  s.timeout_days = state.timeout_days;
  s.created_ms = to_ms(state.created_at);
  s.updated_ms = to_ms(state.updated_at);
  s.version = state.version;
  if (state.last_used_at) {
    s.flags |= Slot::kHasLastUsed;
    s.last_used_ms = to_ms(*state.last_used_at);
  }
  s.expiry_notices = static_cast<std::uint8_t>(state.expiry_notices);
  if (const auto* changed = std::get_if<TokenDescriptionChanged>(&record.event)) {
    s.text = s.text.with(Slot::kDescription, changed->description);
  } else if (const auto* used = std::get_if<TokenUsed>(&record.event)) {
    // apply() took this use's address iff it took its time (it keeps the latest use).
    if (state.last_used_at == used->used_at) s.text = s.text.with(Slot::kLastUsedIp, used->ip);
  }
  mark_dirty_locked(*found);
}

std::optional<TokenRow> TokenTable::get(const std::string& id) const {
  std::shared_lock lock(mutex_);
  auto found = find_id_locked(id);
  if (!found) return std::nullopt;
  return unpack(slots_[*found]);
}

std::optional<TokenRow> TokenTable::find_by_lookup(const std::string& lookup_hash) const {
  std::shared_lock lock(mutex_);
  auto it = by_lookup_.find(lookup_key(lookup_hash));
  if (it == by_lookup_.end()) return std::nullopt;
  return unpack(slots_[*it]);
}

std::vector<TokenRow> TokenTable::list(const std::string& owner) const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  auto it = owner_index_.find(owner);
  if (it == owner_index_.end()) return rows;
  const auto& owned = by_owner_[it->second];
  rows.reserve(owned.size());
  for (auto slot = owned.rbegin(); slot != owned.rend(); ++slot) rows.push_back(unpack(slots_[*slot]));
  return rows;
}

std::optional<std::string> TokenTable::owner_of(const std::string& id) const {
  std::shared_lock lock(mutex_);
  auto found = find_id_locked(id);
  if (!found) return std::nullopt;
  return owners_[slots_[*found].owner];
}

std::size_t TokenTable::owned(const std::string& owner) const {
  std::shared_lock lock(mutex_);
  auto it = owner_index_.find(owner);
  return it == owner_index_.end() ? 0 : by_owner_[it->second].size();
}

void TokenTable::encode_owned(const std::string& owner,
                              const std::function<void(std::string_view encoded)>& visit) const {
  std::shared_lock lock(mutex_);
  auto it = owner_index_.find(owner);
  if (it == owner_index_.end()) return;
  for (std::uint32_t slot : by_owner_[it->second]) visit(token_row_codec::encode(view(slots_[slot])));
}

std::size_t TokenTable::live_count_locked(const std::string& owner, Timestamp now) const {
  auto it = owner_index_.find(owner);
  if (it == owner_index_.end()) return 0;
  const auto& owned = by_owner_[it->second];
  return static_cast<std::size_t>(std::count_if(owned.begin(), owned.end(), [&](std::uint32_t slot) {
    const Slot& s = slots_[slot];
    return now < from_ms(s.created_ms) + Days{s.timeout_days};  // TokenState::expired
  }));
}

std::size_t TokenTable::live_count(const std::string& owner, Timestamp now) const {
  std::shared_lock lock(mutex_);
  return live_count_locked(owner, now);
}

std::vector<TokenRow> TokenTable::select(const std::function<bool(const TokenState&)>& keep) const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  for (const Slot& slot : slots_) {
    if (!slot.has(Slot::kLive)) continue;
    TokenRow row = unpack(slot);
    if (keep(row.state)) rows.push_back(std::move(row));
  }
  return rows;
}

std::size_t TokenTable::size() const {
  std::shared_lock lock(mutex_);
  return by_id_.size();
}

bool TokenTable::reserve(const std::string& owner, Timestamp now, std::size_t limit) {
  std::unique_lock lock(mutex_);
  const std::size_t live = live_count_locked(owner, now);
  auto& held = reserved_[owner];
  if (live + held >= limit) return false;
  ++held;
  return true;
}

void TokenTable::release(const std::string& owner) {
  std::unique_lock lock(mutex_);
  auto it = reserved_.find(owner);
  if (it != reserved_.end() && --it->second == 0) reserved_.erase(it);
}

TokenTable::Changes TokenTable::take_changes() {
  std::unique_lock lock(mutex_);
  Changes changes;
  changes.upserted.reserve(dirty_.size());
  for (std::uint32_t index : dirty_) {
    Slot& s = slots_[index];
    if (!s.has(Slot::kDirty)) continue;  // freed since, or listed twice after reuse
    s.flags &= static_cast<std::uint8_t>(~Slot::kDirty);
    changes.upserted.push_back(unpack(s));
  }
  changes.removed.assign(removed_.begin(), removed_.end());
  dirty_.clear();
  dirty_.shrink_to_fit();  // after a rebuild it listed every row
  removed_.clear();
  return changes;
}

void TokenTable::take_changes(const std::function<void(const std::string&, const std::string&)>& upserted,
                              const std::function<void(const std::string&)>& removed) {
  std::unique_lock lock(mutex_);
  for (std::uint32_t index : dirty_) {
    Slot& s = slots_[index];
    if (!s.has(Slot::kDirty)) continue;
    s.flags &= static_cast<std::uint8_t>(~Slot::kDirty);
    upserted(id_string(s), token_row_codec::encode(view(s)));
  }
  for (const auto& id : removed_) removed(id);
  dirty_.clear();
  dirty_.shrink_to_fit();
  removed_.clear();
}

void TokenTable::load_row(TokenRow row) {
  std::unique_lock lock(mutex_);
  insert_locked(pack(token_row_codec::view_of(row)), false);
}

bool TokenTable::load_encoded(std::string_view bytes) {
  if (!bytes.empty() && bytes.front() == '{') {
    auto row = token_row_codec::decode_json(bytes);
    if (!row) return false;
    load_row(std::move(*row));
    return true;
  }
  auto view = token_row_codec::decode_binary(bytes);
  if (!view) return false;
  std::unique_lock lock(mutex_);
  insert_locked(pack(*view), false);
  return true;
}

void TokenTable::clear() {
  std::unique_lock lock(mutex_);
  by_id_.clear();
  by_lookup_.clear();
  slots_.clear();
  free_.clear();
  owners_.clear();
  owner_index_.clear();
  by_owner_.clear();
  dirty_.clear();
  removed_.clear();
}

std::vector<TokenRow> TokenTable::all() const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  rows.reserve(by_id_.size());
  for (const Slot& slot : slots_) {
    if (slot.has(Slot::kLive)) rows.push_back(unpack(slot));
  }
  std::sort(rows.begin(), rows.end(), [](const TokenRow& a, const TokenRow& b) { return a.state.id < b.state.id; });
  return rows;
}

}  // namespace tl
