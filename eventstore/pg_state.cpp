// The PostgreSQL log's key-value stores (pg_log.hpp): the side stores (keys, credentials, meta)
// and the projections' state families, all in tl_kv under their names, in byte order of keys.
#include <algorithm>

#include "eventstore/pg_log_impl.hpp"

namespace tl {
namespace {

// The least key greater than every key starting with `prefix`, or nullopt when there is none
// (an empty prefix, or one of 0xff bytes only).
std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Error read_only_refusal() { return Error::unavailable("The log is open read-only; nothing was changed."); }

}  // namespace

Status PgKvBatch::apply(PgConn& conn) const {
  std::vector<std::vector<std::string_view>> puts;
  for (const auto& [at, value] : ops_) {
    if (value) {
      puts.push_back({at.first, at.second, *value});
      continue;
    }
    auto r = conn.exec("DELETE FROM tl_kv WHERE family = $1 AND key = $2", PgParams().bytes(at.first).bytes(at.second));
    if (!r) return r.error();
  }
  if (puts.empty()) return {};
  // One COPY and one statement, whatever the number of keys (ON COMMIT DELETE ROWS: the staging
  // rows never outlive the caller's transaction). Rows are locked in key order, as the deletes
  // above are (ops_ is ordered), so two processes writing overlapping keys cannot deadlock.
  for (const char* sql :
       {"CREATE TEMP TABLE IF NOT EXISTS tl_kv_in (family text, key bytea, value bytea) ON COMMIT DELETE ROWS",
        "TRUNCATE tl_kv_in"}) {
    if (auto r = conn.exec(sql); !r) return r.error();
  }
  if (Status s = conn.copy_in("COPY tl_kv_in FROM STDIN (FORMAT binary)", puts); !s) return s;
  auto merged = conn.exec(
      "INSERT INTO tl_kv SELECT family, key, value FROM tl_kv_in ORDER BY family, key "
      "ON CONFLICT (family, key) DO UPDATE SET value = EXCLUDED.value");
  if (!merged) return merged.error();
  return {};
}

Result<std::optional<std::string>> PgLog::get_kv(std::string_view family, std::string_view key) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto r = (*conn)->exec("SELECT value FROM tl_kv WHERE family = $1 AND key = $2", PgParams().bytes(family).bytes(key));
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(r->bytes(0, 0))};
}

Status PgLog::scan_kv(std::string_view family, const StateScan& how,
                      const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  const std::optional<std::string> end = prefix_end(how.prefix);
  std::string from(std::max(how.prefix, how.from));
  for (bool first = true;; first = false) {
    PgParams params;
    params.bytes(family).bytes(from);
    std::string sql =
        std::string("SELECT key, value FROM tl_kv WHERE family = $1 AND key ") + (first ? ">=" : ">") + " $2";
    if (end) {
      sql += " AND key < $3";
      params.bytes(*end);
    }
    auto page = (*conn)->exec(sql + " ORDER BY key LIMIT " + std::to_string(kPgPage), params);
    if (!page) return page.error();
    for (int i = 0; i < page->rows(); ++i) {
      if (!visit(page->bytes(i, 0), page->bytes(i, 1))) return {};
    }
    if (page->rows() < kPgPage) return {};
    from = page->bytes(page->rows() - 1, 0);
  }
}

Result<std::optional<std::string>> PgLog::last_kv_with_prefix(std::string_view family, std::string_view prefix) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  const std::string highest = std::string(prefix) + std::string(16, '\xff');
  auto r =
      (*conn)->exec("SELECT key FROM tl_kv WHERE family = $1 AND key >= $2 AND key <= $3 ORDER BY key DESC LIMIT 1",
                    PgParams().bytes(family).bytes(prefix).bytes(highest));
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(r->bytes(0, 0))};
}

// ---- SideStore ----

Result<std::optional<std::string>> PgLog::get_side(SideStore store, std::string_view key) const {
  return get_kv(side_store_name(store), key);
}

Status PgLog::put_side(SideStore store, std::string_view key, std::string_view value) {
  if (options_.read_only) return read_only_refusal();
  PgKvBatch batch;
  batch.put(side_store_name(store), key, value);
  return write(batch);
}

Status PgLog::scan_side(SideStore store, const std::function<bool(std::string_view, std::string_view)>& visit,
                        std::string_view prefix) const {
  return scan_kv(side_store_name(store), StateScan{.prefix = prefix, .from = {}, .sequential = false}, visit);
}

Result<bool> PgLog::side_has(SideStore store, std::string_view key) const { return has(side_store_name(store), key); }

Result<std::optional<std::string>> PgLog::last_key_with_prefix(SideStore store, std::string_view prefix) const {
  return last_kv_with_prefix(side_store_name(store), prefix);
}

// ---- StateStore ----

Result<std::optional<std::string>> PgLog::get(std::string_view family, std::string_view key) const {
  return get_kv(family, key);
}

Result<bool> PgLog::has(std::string_view family, std::string_view key) const {
  auto value = get_kv(family, key);
  if (!value) return value.error();
  return value->has_value();
}

Status PgLog::scan(std::string_view family, const StateScan& how,
                   const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan_kv(family, how, visit);
}

Result<std::optional<std::string>> PgLog::last_key_with_prefix(std::string_view family, std::string_view prefix) const {
  return last_kv_with_prefix(family, prefix);
}

Result<std::optional<StateEntry>> PgLog::last_entry_at_or_before(std::string_view family, std::string_view prefix,
                                                                 std::string_view bound) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto r = (*conn)->exec("SELECT key, value FROM tl_kv WHERE family = $1 AND key <= $2 ORDER BY key DESC LIMIT 1",
                         PgParams().bytes(family).bytes(bound));
  if (!r) return r.error();
  if (r->rows() == 0 || !r->bytes(0, 0).starts_with(prefix)) return std::optional<StateEntry>{};
  return std::optional<StateEntry>{StateEntry{std::string(r->bytes(0, 0)), std::string(r->bytes(0, 1))}};
}

Status PgLog::write(StateBatch& batch) {
  if (options_.read_only) return read_only_refusal();
  auto& kv = dynamic_cast<PgKvBatch&>(batch);  // only batches of new_batch() are accepted
  if (kv.empty()) return {};
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  if (auto r = (*conn)->exec("BEGIN"); !r) return r.error();
  if (Status s = kv.apply(**conn); !s) {
    (void)(*conn)->exec("ROLLBACK");
    return Error::unavailable(s.error().message);
  }
  if (auto r = (*conn)->exec("COMMIT"); !r) return Error::unavailable(r.error().message);
  return {};
}

Result<bool> PgLog::replace_existing(std::string_view family, std::string_view key, std::string_view value) {
  if (options_.read_only) return read_only_refusal();
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto r = (*conn)->exec("UPDATE tl_kv SET value = $3 WHERE family = $1 AND key = $2 RETURNING 1",
                         PgParams().bytes(family).bytes(key).bytes(value));
  if (!r) return Error::unavailable(r.error().message);
  return r->rows() > 0;
}

Status PgLog::erase_range(std::string_view family, std::string_view from, std::string_view to) {
  if (options_.read_only) return read_only_refusal();
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto r = (*conn)->exec("DELETE FROM tl_kv WHERE family = $1 AND key >= $2 AND key < $3",
                         PgParams().bytes(family).bytes(from).bytes(to));
  if (!r) return Error::unavailable(r.error().message);
  return {};
}

}  // namespace tl
