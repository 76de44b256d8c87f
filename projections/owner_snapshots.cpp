#include "projections/owner_snapshots.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "eventstore/event_log.hpp"
#include "projections/audit_index.hpp"
#include "projections/read_model.hpp"

namespace tl {
namespace {

// A snapshot's value: for each row, oldest first, its length (4 bytes, big-endian) and its
// checkpoint encoding (TokenTable::encode).
void append_row(std::string& out, std::string_view encoded) {
  const auto n = static_cast<std::uint32_t>(encoded.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)};
  out.append(len, 4).append(encoded);
}

// The newest entry with `prefix` (an owner's) at or before `seq`: one seek.
Result<std::optional<StateEntry>> newest_at_or_before(const StateStore& state, const std::string& prefix,
                                                      std::uint64_t seq) {
  return state.last_entry_at_or_before(ReadModel::kStateFamily, prefix, prefix + encode_be64(seq));
}

}  // namespace

OwnerSnapshots::OwnerSnapshots(StateStore& state, std::uint32_t every) : state_(state), every_(every) {}

std::string OwnerSnapshots::owner_prefix(std::string_view owner) {
  std::string prefix(kPrefix);
  prefix.append(owner).push_back('\0');
  return prefix;
}

std::string OwnerSnapshots::key(std::string_view owner, std::uint64_t seq) {
  return owner_prefix(owner) + encode_be64(seq);
}

std::optional<std::pair<std::string, std::uint64_t>> OwnerSnapshots::parse_key(std::string_view key) {
  if (!key.starts_with(kPrefix) || key.size() < kPrefix.size() + 9 || key[key.size() - 9] != '\0') return std::nullopt;
  return std::pair{std::string(key.substr(kPrefix.size(), key.size() - 9 - kPrefix.size())),
                   decode_be64(key.substr(key.size() - 8))};
}

std::uint64_t OwnerSnapshots::records_since_snapshot(const std::string& owner, std::uint64_t seq) const {
  // The owner's newest snapshot at or before `seq`, and its records after it up to `seq`: what
  // this process has not counted. On a read error, 0 (a snapshot comes later than due).
  auto last = newest_at_or_before(state_, owner_prefix(owner), seq);
  if (!last) return 0;
  const auto parsed = *last ? parse_key((*last)->key) : std::nullopt;
  const std::uint64_t after = parsed ? parsed->second : 0;
  auto count = AuditIndex::count_owner_records(state_, owner, after, seq);
  return count ? *count : 0;
}

void OwnerSnapshots::after_fold(const Record& record, const TokenTable& table) {
  if (record.owner.empty()) return;
  auto [it, fresh] = since_last_.try_emplace(record.owner, 0);
  if (fresh) {
    // First seen by this process: restarts must not postpone an owner's snapshots for ever.
    it->second = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(records_since_snapshot(record.owner, record.seq), UINT32_MAX - 1));
  } else {
    ++it->second;
  }
  if (it->second < every_ || it->second < table.owned(record.owner)) return;
  it->second = 0;
  std::string value;
  table.encode_owned(record.owner, [&](std::string_view encoded) { append_row(value, encoded); });
  if (!batch_) batch_ = state_.new_batch();
  const std::string k = key(record.owner, record.seq);
  batch_->put(ReadModel::kStateFamily, k, value);
  queued_bytes_ += k.size() + value.size();
  if (queued_bytes_ >= kFlushBytes) {
    if (auto written = flush(); !written) spdlog::warn("owner snapshots not saved: {}", written.error().message);
  }
}

Status OwnerSnapshots::flush() {
  if (queued_bytes_ == 0) return {};
  queued_bytes_ = 0;
  auto written = state_.write(*batch_);
  batch_->clear();
  if (!written) return Error::unavailable("owner snapshots: " + written.error().message);
  return {};
}

void OwnerSnapshots::reset() {
  since_last_.clear();
  if (batch_) batch_->clear();
  queued_bytes_ = 0;
}

std::optional<std::vector<TokenRow>> OwnerSnapshots::decode(std::string_view bytes) {
  std::vector<TokenRow> rows;
  while (!bytes.empty()) {
    if (bytes.size() < 4) return std::nullopt;
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
    if (bytes.size() - 4 < n) return std::nullopt;
    auto row = TokenTable::decode(bytes.substr(4, n));
    if (!row) return std::nullopt;
    rows.push_back(std::move(*row));
    bytes.remove_prefix(4 + n);
  }
  return rows;
}

Result<std::optional<OwnerSnapshots::Snapshot>> OwnerSnapshots::nearest(const StateStore& state, std::string_view owner,
                                                                        std::uint64_t seq) {
  auto found = newest_at_or_before(state, owner_prefix(owner), seq);
  if (!found) return Error::unavailable("owner snapshots: " + found.error().message);
  if (!*found) return std::optional<Snapshot>{};
  auto parsed = parse_key((*found)->key);
  auto rows = decode((*found)->value);
  if (!parsed || !rows)
    return Error::internal("owner snapshots: the snapshot of " + std::string(owner) + " does not decode");
  return std::optional<Snapshot>{Snapshot{parsed->second, std::move(*rows)}};
}

Result<bool> OwnerSnapshots::complete(const StateStore& state) {
  auto has = state.has(ReadModel::kStateFamily, kCompleteKey);
  if (!has) return Error::unavailable("owner snapshots: " + has.error().message);
  return *has;
}

Status OwnerSnapshots::mark_complete(StateStore& state) {
  auto batch = state.new_batch();
  batch->put(ReadModel::kStateFamily, kCompleteKey, "");
  if (auto s = state.write(*batch); !s) return Error::unavailable("owner snapshots: " + s.error().message);
  return {};
}

}  // namespace tl
