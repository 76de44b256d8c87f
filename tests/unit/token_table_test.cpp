// The token table's packed store and its indices (by id, by lookup hash, by owner), its change
// tracking and its checkpoint row format. A reference model folds the same records with the
// domain's apply() into plain TokenStates; the table must always answer exactly as it does.
#include "projections/token_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "eventstore/passwords.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/token_keys.hpp"

namespace tl {
namespace {

const Timestamp kT0{std::chrono::milliseconds{1'790'000'000'000}};

// Every field a reader can see, as one comparable string.
std::string describe(const TokenRow& r) {
  const auto& s = r.state;
  return s.id + "|" + s.owner + "|" + s.description + "|" + std::to_string(s.timeout_days) + "|" +
         std::to_string(s.created_at.time_since_epoch().count()) + "|" +
         std::to_string(s.updated_at.time_since_epoch().count()) + "|" + s.code_lookup + "|" +
         std::to_string(s.version) + "|" +
         (s.last_used_at ? std::to_string(s.last_used_at->time_since_epoch().count()) : "never") + "|" +
         s.last_used_ip + "|" + std::to_string(s.expiry_notices) + "|" + std::to_string(r.created_seq) + "|" +
         (s.deleted ? "deleted" : "") + s.code_sealed;
}

std::vector<std::string> ids_of(const std::vector<TokenRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.state.id);
  return ids;
}

std::string hex_lookup(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(64, '0');
  for (auto& c : s) c = kHex[rng() % 16];
  return s;
}

// Builds records the way the codec yields them for the table (only the fields it reads).
struct Log {
  std::uint64_t seq = 0;
  Record record(const std::string& id, Event event, Timestamp at = kT0) {
    Record r;
    r.seq = ++seq;
    r.at = at + std::chrono::seconds{seq};
    r.stream = id;
    r.token_id = id;
    r.event = std::move(event);
    return r;
  }
};

// The old table's semantics, spelled out: full TokenStates folded by the domain.
struct Reference {
  std::map<std::string, TokenRow> rows;
  std::set<std::string> touched;

  void apply(const Record& r) {
    if (!is_token_event(r.event)) return;
    if (std::holds_alternative<TokenCreated>(r.event)) {
      TokenRow row;
      row.state.id = r.stream;
      row.created_seq = r.seq;
      tl::apply(row.state, r.event, r.at);
      row.state.code_sealed.clear();
      rows[r.stream] = row;
      touched.insert(r.stream);
      return;
    }
    auto it = rows.find(r.stream);
    if (it == rows.end()) return;
    tl::apply(it->second.state, r.event, r.at);
    touched.insert(r.stream);
    if (it->second.state.deleted) rows.erase(it);
  }
  std::vector<std::string> owner_ids(const std::string& owner) const {
    std::vector<const TokenRow*> owned;
    for (const auto& [id, row] : rows) {
      if (row.state.owner == owner) owned.push_back(&row);
    }
    std::sort(owned.begin(), owned.end(), [](auto* a, auto* b) { return a->created_seq > b->created_seq; });
    std::vector<std::string> ids;
    for (auto* r : owned) ids.push_back(r->state.id);
    return ids;
  }
};

void expect_same(const TokenTable& table, const Reference& ref, const std::vector<std::string>& gone = {}) {
  ASSERT_EQ(table.size(), ref.rows.size());
  const auto all = table.all();
  ASSERT_EQ(all.size(), ref.rows.size());
  std::size_t i = 0;
  std::set<std::string> owners;
  for (const auto& [id, row] : ref.rows) {
    EXPECT_EQ(describe(all[i++]), describe(row));
    auto got = table.get(id);
    ASSERT_TRUE(got) << id;
    EXPECT_EQ(describe(*got), describe(row));
    auto by_lookup = table.find_by_lookup(row.state.code_lookup);
    ASSERT_TRUE(by_lookup) << row.state.code_lookup;
    EXPECT_EQ(by_lookup->state.id, id);
    owners.insert(row.state.owner);
  }
  std::size_t listed = 0;
  for (const auto& owner : owners) {
    const auto rows = table.list(owner);
    EXPECT_EQ(ids_of(rows), ref.owner_ids(owner)) << owner;
    listed += rows.size();
  }
  EXPECT_EQ(listed, ref.rows.size()) << "every row is listed under exactly one owner";
  for (const auto& id : gone) {
    if (!ref.rows.contains(id)) {
      EXPECT_FALSE(table.get(id)) << id;
    }
  }
}

TEST(TokenKeys, ServiceIdsAndLookupsPackAndUnpackExactly) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_ulid("tok_");
    auto packed = pack_id(id);
    ASSERT_TRUE(packed) << id;
    EXPECT_EQ(unpack_id(*packed), id);
  }
  const std::string max_id = "tok_3ZZZZZZZZZZZZZZZZZZZZZZZZZ";
  ASSERT_TRUE(pack_id(max_id));
  EXPECT_EQ(unpack_id(*pack_id(max_id)), max_id);
  EXPECT_EQ(unpack_id(*pack_id("tok_00000000000000000000000000")), "tok_00000000000000000000000000");
  // Anything else stays raw, so a different spelling is a different id.
  EXPECT_FALSE(pack_id("tok_4ZZZZZZZZZZZZZZZZZZZZZZZZZ"));  // needs 130 bits
  EXPECT_FALSE(pack_id("tok_01arz3ndektsv4rrffq69g5fav"));  // lowercase
  EXPECT_FALSE(pack_id("tok_01ARZ3NDEKTSV4RRFFQ69G5FAI"));  // I is not Crockford
  EXPECT_FALSE(pack_id("tok_01ARZ3NDEKTSV4RRFFQ69G5FA"));   // short
  EXPECT_FALSE(pack_id("usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(pack_id(""));

  std::array<unsigned char, 32> key{};
  TokenSecrets secrets(key);
  const std::string lookup = secrets.lookup_hash(secrets.generate_code());
  ASSERT_TRUE(pack_lookup(lookup));
  EXPECT_EQ(unpack_lookup(*pack_lookup(lookup)), lookup);
  std::string upper = lookup;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  if (upper != lookup) {
    EXPECT_FALSE(pack_lookup(upper));
  }
  EXPECT_FALSE(pack_lookup(lookup.substr(1)));
  EXPECT_FALSE(pack_lookup(std::string(64, 'g')));
}

TEST(TokenKeys, PackedTextKeepsEveryPart) {
  EXPECT_EQ(PackedText().part(0), "");
  const std::string long_text(1000, 'x');
  PackedText t({"CI pipeline ✓", "", long_text, "10.0.0.1"});
  EXPECT_EQ(t.part(0), "CI pipeline ✓");
  EXPECT_EQ(t.part(1), "");
  EXPECT_EQ(t.part(2), long_text);
  EXPECT_EQ(t.part(3), "10.0.0.1");
  PackedText u = t.with(0, t.part(3));  // a value that points into the text it replaces
  EXPECT_EQ(u.part(0), "10.0.0.1");
  EXPECT_EQ(u.part(2), long_text);
  EXPECT_EQ(PackedText({"", "", "", ""}).part(3), "");
}

TEST(TokenTable, FoldsCreateChangeUseDeleteAndRecreate) {
  TokenTable table;
  Reference ref;
  Log log;
  std::mt19937_64 rng(1);
  auto both = [&](const Record& r) {
    table.apply(r);
    ref.apply(r);
  };
  const std::string a = new_ulid("tok_"), b = new_ulid("tok_"), raw = "t-raw";
  const std::string la = hex_lookup(rng), lb = hex_lookup(rng), lraw = "not hex";
  both(log.record(a, TokenCreated{"alice", "CI pipeline", 30, la, "sealed"}));
  both(log.record(b, TokenCreated{"alice", "nightly export", 10, lb, "sealed"}));
  both(log.record(raw, TokenCreated{"bob", "raw id and lookup", 5, lraw, "sealed"}));
  expect_same(table, ref);
  EXPECT_EQ(ids_of(table.list("alice")), (std::vector<std::string>{b, a})) << "newest first";
  EXPECT_EQ(table.get(a)->state.code_sealed, "") << "the sealed code stays in the log";

  both(log.record(a, TokenDescriptionChanged{"CI pipeline (prod)"}));
  both(log.record(a, TokenTimeoutChanged{60}));
  both(log.record(a, TokenExpiryNotified{"7d", true}));
  both(log.record(a, TokenRevealed{}));
  both(log.record(a, TokenUsed{kT0 + std::chrono::hours{5}, "10.0.0.5"}));
  both(log.record(a, TokenUsed{kT0 + std::chrono::hours{2}, "10.0.0.2"}));  // older: not taken
  both(log.record(raw, TokenUsed{kT0, "2001:db8::1"}));
  expect_same(table, ref);
  EXPECT_EQ(table.get(a)->state.last_used_ip, "10.0.0.5");
  EXPECT_EQ(table.get(a)->state.version, 7u) << "an older use still counts as an event";
  EXPECT_EQ(table.get(a)->state.expiry_notices, 1u);
  both(log.record(a, TokenTimeoutChanged{90}));
  EXPECT_EQ(table.get(a)->state.expiry_notices, 0u) << "a new timeout starts the notices over";

  both(log.record(a, TokenDeleted{}));
  both(log.record(raw, TokenDeleted{"offboarding"}));
  expect_same(table, ref, {a, raw});
  EXPECT_FALSE(table.find_by_lookup(la));
  EXPECT_FALSE(table.find_by_lookup(lraw));
  EXPECT_TRUE(table.list("bob").empty());
  both(log.record(a, TokenRevealed{}));  // after deletion: nothing to fold
  EXPECT_FALSE(table.get(a));

  // The same id created again, by someone else and with another code.
  const std::string la2 = hex_lookup(rng);
  both(log.record(a, TokenCreated{"carol", "again", 7, la2, "sealed"}));
  expect_same(table, ref);
  EXPECT_FALSE(table.find_by_lookup(la));
  EXPECT_EQ(table.get(a)->state.version, 1u);
  EXPECT_EQ(ids_of(table.list("alice")), std::vector<std::string>{b});

  // A TokenCreated for a live id replaces the row in every index.
  const std::string lb2 = hex_lookup(rng);
  both(log.record(b, TokenCreated{"dave", "replaced", 3, lb2, "sealed"}));
  expect_same(table, ref);
  EXPECT_FALSE(table.find_by_lookup(lb));
  EXPECT_TRUE(table.list("alice").empty());
}

TEST(TokenTable, MatchesTheReferenceUnderRandomHistories) {
  std::mt19937_64 rng(7);
  TokenTable table;
  Reference ref;
  Log log;
  std::vector<std::string> ids, deleted;
  const std::vector<std::string> owners = {"alice", "bob", "carol", "a-very-long-owner-name-beyond-sso"};
  for (int step = 0; step < 4000; ++step) {
    const auto roll = rng() % 100;
    if (roll < 25 || ids.empty()) {
      std::string id;
      if (!deleted.empty() && rng() % 5 == 0) {
        id = deleted[rng() % deleted.size()];  // re-create a deleted id
      } else {
        id = rng() % 4 == 0 ? "t" + std::to_string(step) : new_ulid("tok_");
      }
      const std::string lookup = rng() % 4 == 0 ? "lookup-" + std::to_string(step) : hex_lookup(rng);
      const Record r = log.record(id, TokenCreated{owners[rng() % owners.size()], "d" + std::to_string(step),
                                                   static_cast<int>(1 + rng() % 365), lookup, "sealed"});
      table.apply(r);
      ref.apply(r);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      continue;
    }
    const std::string id = ids[rng() % ids.size()];
    Event event;
    if (roll < 40) {
      event = TokenDescriptionChanged{std::string(rng() % 60, 'x') + std::to_string(step)};
    } else if (roll < 50) {
      event = TokenTimeoutChanged{static_cast<int>(1 + rng() % 365)};
    } else if (roll < 65) {
      event = TokenUsed{kT0 + std::chrono::minutes{rng() % 10000}, "10.1." + std::to_string(rng() % 256) + ".9"};
    } else if (roll < 75) {
      event = TokenRevealed{};
    } else if (roll < 80) {
      event = TokenExpiryNotified{rng() % 2 ? "7d" : "1d", true};
    } else {
      event = TokenDeleted{};
    }
    const bool deleting = std::holds_alternative<TokenDeleted>(event);
    const Record r = log.record(id, std::move(event));
    table.apply(r);
    ref.apply(r);
    if (deleting) {
      ids.erase(std::find(ids.begin(), ids.end(), id));
      deleted.push_back(id);
    }
    if (step % 97 == 0) {
      auto changes = table.take_changes();
      std::set<std::string> upserted, removed(changes.removed.begin(), changes.removed.end());
      for (const auto& row : changes.upserted) {
        EXPECT_TRUE(upserted.insert(row.state.id).second) << "reported once: " << row.state.id;
        ASSERT_TRUE(ref.rows.contains(row.state.id));
        EXPECT_EQ(describe(row), describe(ref.rows.at(row.state.id)));
      }
      EXPECT_EQ(removed.size(), changes.removed.size());
      for (const auto& id_touched : ref.touched) {
        if (ref.rows.contains(id_touched)) {
          EXPECT_TRUE(upserted.contains(id_touched)) << id_touched;
          EXPECT_FALSE(removed.contains(id_touched)) << id_touched;
        } else {
          EXPECT_TRUE(removed.contains(id_touched)) << id_touched;
        }
      }
      EXPECT_EQ(upserted.size() + removed.size(), ref.touched.size());
      ref.touched.clear();
    }
    if (step % 500 == 0) expect_same(table, ref, deleted);
  }
  expect_same(table, ref, deleted);
}

TEST(TokenTable, TakeChangesReportsEachIdOnceAndLoadsAreNotChanges) {
  TokenTable table;
  Log log;
  const std::string a = new_ulid("tok_"), b = new_ulid("tok_"), c = new_ulid("tok_");
  table.apply(log.record(a, TokenCreated{"alice", "a", 10, std::string(64, 'a'), ""}));
  table.apply(log.record(a, TokenRevealed{}));
  table.apply(log.record(b, TokenCreated{"alice", "b", 10, std::string(64, 'b'), ""}));
  table.apply(log.record(b, TokenDeleted{}));  // created and deleted between two checkpoints
  table.apply(log.record(c, TokenCreated{"alice", "c", 10, std::string(64, 'c'), ""}));  // reuses b's slot
  auto changes = table.take_changes();
  EXPECT_EQ(ids_of(changes.upserted), (std::vector<std::string>{a, c}));
  EXPECT_EQ(changes.removed, std::vector<std::string>{b});
  changes = table.take_changes();
  EXPECT_TRUE(changes.upserted.empty() && changes.removed.empty());

  // Deleted, then created again before the checkpoint: the checkpoint must keep the new row.
  table.apply(log.record(a, TokenDeleted{}));
  table.apply(log.record(a, TokenCreated{"bob", "a again", 10, std::string(64, 'd'), ""}));
  changes = table.take_changes();
  EXPECT_EQ(ids_of(changes.upserted), std::vector<std::string>{a});
  EXPECT_TRUE(changes.removed.empty());

  TokenRow loaded = *table.get(c);
  loaded.state.description = "from a checkpoint";
  table.load_row(loaded);
  EXPECT_EQ(table.get(c)->state.description, "from a checkpoint");
  EXPECT_EQ(table.size(), 2u);
  changes = table.take_changes();
  EXPECT_TRUE(changes.upserted.empty() && changes.removed.empty());
}

TEST(TokenTable, CheckpointLoadRestoresEveryIndexInCreationOrder) {
  std::mt19937_64 rng(3);
  TokenTable folded;
  Log log;
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    const std::string id = i % 10 == 0 ? "id-" + std::to_string(999 - i) : new_ulid("tok_");
    folded.apply(log.record(id, TokenCreated{"owner" + std::to_string(i % 7), "token " + std::to_string(i), 30,
                                             hex_lookup(rng), "sealed"}));
    if (i % 3 == 0) folded.apply(log.record(id, TokenUsed{kT0 + std::chrono::minutes{i}, "10.0.0.1"}));
    if (i % 11 == 0) folded.apply(log.record(id, TokenDeleted{}));
  }
  std::vector<std::string> encoded;
  for (const auto& row : folded.all()) encoded.push_back(TokenTable::encode(row));
  std::shuffle(encoded.begin(), encoded.end(), rng);  // a checkpoint is read in key (id) order
  TokenTable loaded;
  for (const auto& bytes : encoded) {
    auto row = TokenTable::decode(bytes);
    ASSERT_TRUE(row);
    loaded.load_row(std::move(*row));
  }
  ASSERT_EQ(loaded.size(), folded.size());
  const auto a = folded.all(), b = loaded.all();
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(describe(a[i]), describe(b[i]));
    EXPECT_EQ(loaded.find_by_lookup(a[i].state.code_lookup)->state.id, a[i].state.id);
  }
  for (int o = 0; o < 7; ++o) {
    const std::string owner = "owner" + std::to_string(o);
    EXPECT_EQ(ids_of(loaded.list(owner)), ids_of(folded.list(owner))) << "newest first after a load too";
  }
}

TEST(TokenTable, LiveCountReserveSelectAndClear) {
  TokenTable table;
  Log log;
  table.apply(log.record("t1", TokenCreated{"alice", "short", 1, "l1", ""}, kT0));
  table.apply(log.record("t2", TokenCreated{"alice", "long", 30, "l2", ""}, kT0));
  EXPECT_EQ(table.live_count("alice", kT0), 2u);
  EXPECT_EQ(table.live_count("alice", kT0 + Days{2}), 1u) << "expired tokens do not count";
  EXPECT_EQ(table.live_count("nobody", kT0), 0u);
  EXPECT_TRUE(table.reserve("alice", kT0, 3));
  EXPECT_FALSE(table.reserve("alice", kT0, 3)) << "the reservation holds the third place";
  table.release("alice");
  EXPECT_TRUE(table.reserve("alice", kT0, 3));
  table.release("alice");
  const auto longer = table.select([](const TokenState& s) { return s.timeout_days > 10; });
  EXPECT_EQ(ids_of(longer), std::vector<std::string>{"t2"});
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.get("t1"));
  EXPECT_FALSE(table.find_by_lookup("l2"));
  EXPECT_TRUE(table.list("alice").empty());
  table.apply(log.record("t1", TokenCreated{"alice", "after clear", 1, "l1", ""}, kT0));
  EXPECT_EQ(table.get("t1")->state.description, "after clear");
}

TEST(TokenTable, DuplicateLookupHashesNeverPointAtAGoneRow) {
  TokenTable table;
  Log log;
  table.apply(log.record("t1", TokenCreated{"alice", "one", 10, "same", ""}));
  table.apply(log.record("t2", TokenCreated{"alice", "two", 10, "same", ""}));
  EXPECT_EQ(table.find_by_lookup("same")->state.id, "t2") << "the newer one answers";
  table.apply(log.record("t1", TokenDeleted{}));
  EXPECT_EQ(table.find_by_lookup("same")->state.id, "t2");
  table.apply(log.record("t2", TokenDeleted{}));
  EXPECT_FALSE(table.find_by_lookup("same"));
}

TokenRow sample_row() {
  TokenRow row;
  auto& s = row.state;
  s.id = new_ulid("tok_");
  s.owner = "alice";
  s.description = "CI pipeline (prod) ✓";
  s.timeout_days = 30;
  s.created_at = kT0;
  s.updated_at = kT0 + std::chrono::hours{1};
  s.code_lookup = std::string(64, 'e');
  s.version = 7;
  s.last_used_at = kT0 + std::chrono::hours{2};
  s.last_used_ip = "2001:db8::7";
  s.expiry_notices = 3;
  row.created_seq = 12345;
  return row;
}

TEST(TokenRowCodec, RoundTripsEveryField) {
  std::vector<TokenRow> rows;
  rows.push_back(sample_row());
  TokenRow never_used = sample_row();
  never_used.state.last_used_at.reset();
  never_used.state.last_used_ip.clear();
  rows.push_back(never_used);
  TokenRow edge;  // empty strings, extreme numbers, raw id and lookup
  edge.state.timeout_days = std::numeric_limits<int>::min();
  edge.state.created_at = Timestamp{std::chrono::milliseconds{-1}};
  edge.state.updated_at = Timestamp{std::chrono::milliseconds{std::numeric_limits<std::int64_t>::max()}};
  edge.state.last_used_at = Timestamp{std::chrono::milliseconds{std::numeric_limits<std::int64_t>::min()}};
  edge.state.version = std::numeric_limits<std::uint64_t>::max();
  edge.state.expiry_notices = std::numeric_limits<unsigned>::max();
  edge.created_seq = std::numeric_limits<std::uint64_t>::max();
  rows.push_back(edge);
  TokenRow big = sample_row();
  big.state.id = "legacy id with spaces";
  big.state.code_lookup = std::string(64, 'E');  // not lowercase hex: kept as text
  big.state.description = std::string(300, 'd') + std::string("\0nul", 4);
  rows.push_back(big);
  for (const auto& row : rows) {
    const std::string bytes = TokenTable::encode(row);
    auto back = TokenTable::decode(bytes);
    ASSERT_TRUE(back) << describe(row);
    EXPECT_EQ(describe(*back), describe(row));
  }
  EXPECT_LT(TokenTable::encode(rows[0]).size(), 150u) << "compact: the lookup hash is stored as 32 bytes";
}

TEST(TokenRowCodec, RejectsDamagedRows) {
  const std::string bytes = TokenTable::encode(sample_row());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(TokenTable::decode(std::string_view(bytes).substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(TokenTable::decode(bytes + "x")) << "trailing bytes";
  std::string other_version = bytes;
  other_version[0] = 2;
  EXPECT_FALSE(TokenTable::decode(other_version));
  EXPECT_FALSE(TokenTable::decode(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)))
      << "a varint beyond 64 bits";
  EXPECT_FALSE(TokenTable::decode("{not json"));
}

TEST(TokenRowCodec, ReadsTheJsonRowsOfOlderCheckpoints) {
  const std::string used =
      R"({"id":"tok_01J00000000000000000000000","owner":"alice","description":"CI","timeout_days":30,)"
      R"("created_at":1790000000000,"updated_at":1790000001000,"code_lookup":"abc","version":4,"created_seq":9,)"
      R"("expiry_notices":1,"last_used_at":1790000002000,"last_used_ip":"10.0.0.1"})";
  auto row = TokenTable::decode(used);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state.id, "tok_01J00000000000000000000000");
  EXPECT_EQ(row->state.owner, "alice");
  EXPECT_EQ(row->state.timeout_days, 30);
  EXPECT_EQ(row->state.version, 4u);
  EXPECT_EQ(row->created_seq, 9u);
  EXPECT_EQ(row->state.expiry_notices, 1u);
  EXPECT_EQ(row->state.last_used_ip, "10.0.0.1");
  EXPECT_EQ(row->state.last_used_at, Timestamp{std::chrono::milliseconds{1790000002000}});
  // Re-encoded, it is the binary form and says the same.
  EXPECT_EQ(describe(*TokenTable::decode(TokenTable::encode(*row))), describe(*row));
  const std::string never_used =
      R"({"id":"t","owner":"o","description":"d","timeout_days":1,"created_at":0,"updated_at":0,)"
      R"("code_lookup":"l","version":1,"created_seq":1,"expiry_notices":0})";
  row = TokenTable::decode(never_used);
  ASSERT_TRUE(row);
  EXPECT_FALSE(row->state.last_used_at);
}

}  // namespace
}  // namespace tl
