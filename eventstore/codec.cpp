#include "eventstore/codec.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <type_traits>

#include "eventstore/hex.hpp"
#include "eventstore/json_writer.hpp"
#include "eventstore/time_format.hpp"

namespace tl {
namespace {

constexpr std::string_view kHashKey = R"(,"hash":")";
constexpr std::size_t kHashHexLength = 64;
// `,"hash":"` + 64 hex digits + `"}`
constexpr std::size_t kHashSuffixLength = kHashKey.size() + kHashHexLength + 2;

void write_timeout(JsonWriter& w, int days) {
  w.key("timeout").begin_object().key("value").value(days).key("unit").value("days").end_object();
}

void write_groups(JsonWriter& w, const std::vector<std::string>& groups) {
  w.key("groups").begin_array();
  for (const auto& g : groups) w.value(g);
  w.end_array();
}

void write_data(JsonWriter& w, const Event& event) {
  w.key("data").begin_object();
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, TokenCreated>) {
          w.key("description").value(e.description);
          write_timeout(w, e.timeout_days);
          w.key("code_lookup").value(e.code_lookup).key("code_sealed").value(e.code_sealed);
        } else if constexpr (std::is_same_v<E, TokenDescriptionChanged>) {
          w.key("description").value(e.description);
        } else if constexpr (std::is_same_v<E, TokenTimeoutChanged>) {
          write_timeout(w, e.timeout_days);
        } else if constexpr (std::is_same_v<E, TokenDeleted>) {
          if (!e.reason.empty()) w.key("reason").value(e.reason);
        } else if constexpr (std::is_same_v<E, TokenExpiryNotified>) {
          w.key("window").value(e.window).key("delivered").value(e.delivered);
        } else if constexpr (std::is_same_v<E, TokenUsed>) {
          w.key("used_at").value(format_rfc3339(e.used_at)).key("ip").value(e.ip);
        } else if constexpr (std::is_same_v<E, UserCreated>) {
          w.key("username").value(e.username);
          write_groups(w, e.groups);
        } else if constexpr (std::is_same_v<E, UserGroupsChanged>) {
          write_groups(w, e.groups);
        }
      },
      event);
  w.end_object();
}

void write_optional(JsonWriter& w, std::string_view key, const std::string& v) {
  w.key(key);
  if (v.empty()) {
    w.null();
  } else {
    w.value(v);
  }
}

// --- decoding -------------------------------------------------------------------------

using simdjson::ondemand::object;
using simdjson::ondemand::value;

Error corrupt(std::string_view what) { return Error::internal("corrupt event record: " + std::string(what)); }

bool get_string(value v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  out.assign(s);
  return true;
}

bool get_optional_string(value v, std::string& out) {
  if (v.is_null()) {
    out.clear();
    return true;
  }
  return get_string(v, out);
}

bool get_timeout_days(value v, int& days) {
  object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  std::int64_t n = 0;
  if (o["value"].get_int64().get(n) != simdjson::SUCCESS) return false;
  days = static_cast<int>(n);
  return true;
}

bool get_groups(value v, std::vector<std::string>& groups) {
  simdjson::ondemand::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) return false;
  for (auto item : a) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return false;
    groups.emplace_back(s);
  }
  return true;
}

template <class F>
bool for_each_field(value v, F&& f) {
  object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto field : o) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (!f(key, field.value())) return false;
  }
  return true;
}

bool decode_data(std::string_view type, value v, Event& event) {
  if (type == "TokenCreated") {
    TokenCreated e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      if (k == "description") return get_string(f, e.description);
      if (k == "timeout") return get_timeout_days(f, e.timeout_days);
      if (k == "code_lookup") return get_string(f, e.code_lookup);
      if (k == "code_sealed") return get_string(f, e.code_sealed);
      return true;
    });
    event = std::move(e);
    return ok;
  }
  if (type == "TokenDescriptionChanged") {
    TokenDescriptionChanged e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      return k != "description" || get_string(f, e.description);
    });
    event = std::move(e);
    return ok;
  }
  if (type == "TokenTimeoutChanged") {
    TokenTimeoutChanged e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      return k != "timeout" || get_timeout_days(f, e.timeout_days);
    });
    event = e;
    return ok;
  }
  if (type == "TokenRevealed") return event = TokenRevealed{}, true;
  if (type == "TokenDeleted") {
    TokenDeleted e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      return k != "reason" || get_string(f, e.reason);
    });
    event = std::move(e);
    return ok;
  }
  if (type == "TokenUsed") {
    TokenUsed e;
    std::string used_at;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      if (k == "used_at") return get_string(f, used_at);
      if (k == "ip") return get_string(f, e.ip);
      return true;
    });
    auto t = parse_rfc3339(used_at);
    if (!ok || !t) return false;
    e.used_at = *t;
    event = std::move(e);
    return true;
  }
  if (type == "TokenExpiryNotified") {
    TokenExpiryNotified e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      if (k == "window") return get_string(f, e.window);
      if (k == "delivered") return f.get_bool().get(e.delivered) == simdjson::SUCCESS;
      return true;
    });
    event = std::move(e);
    return ok;
  }
  if (type == "UserCreated") {
    UserCreated e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      if (k == "username") return get_string(f, e.username);
      if (k == "groups") return get_groups(f, e.groups);
      return true;
    });
    event = std::move(e);
    return ok;
  }
  if (type == "UserGroupsChanged") {
    UserGroupsChanged e;
    const bool ok = for_each_field(v, [&](std::string_view k, value f) {
      return k != "groups" || get_groups(f, e.groups);
    });
    event = std::move(e);
    return ok;
  }
  if (type == "UserPasswordChanged") return event = UserPasswordChanged{}, true;
  if (type == "UserReauthenticated") return event = UserReauthenticated{}, true;
  if (type == "UserDeleted") return event = UserDeleted{}, true;
  return false;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return to_hex(digest, sizeof digest);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view bytes) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return to_hex(mac, sizeof mac);
}

void encode_record(Record& r) {
  JsonWriter w;
  w.begin_object()
      .key("schema").value(kRecordSchema)
      .key("seq").value(r.seq)
      .key("at").value(format_rfc3339(r.at))
      .key("type").value(event_type(r.event))
      .key("stream").value(r.stream)
      .key("version").value(r.version);
  w.key("actor").begin_object().key("user").value(r.actor.user).key("via").value(r.actor.via);
  if (!r.actor.token_id.empty()) w.key("token_id").value(r.actor.token_id);
  w.end_object();
  w.key("source").begin_object();
  write_optional(w, "ip", r.source.ip);
  write_optional(w, "user_agent", r.source.user_agent);
  write_optional(w, "request_id", r.source.request_id);
  w.end_object();
  write_optional(w, "token_id", r.token_id);
  write_optional(w, "owner", r.owner);
  write_data(w, r.event);
  w.key("prev_hash").value(r.prev_hash);
  std::string body = std::move(w).str();
  r.hash = sha256_hex(body);
  body += kHashKey;
  body += r.hash;
  body += "\"}";
  r.raw = std::move(body);
}

bool record_hash_matches(std::string_view raw) {
  if (raw.size() <= kHashSuffixLength) return false;
  const std::size_t body_length = raw.size() - kHashSuffixLength;
  if (raw.substr(body_length, kHashKey.size()) != kHashKey || raw.substr(raw.size() - 2) != "\"}") {
    return false;
  }
  const auto stored = raw.substr(body_length + kHashKey.size(), kHashHexLength);
  return sha256_hex(raw.substr(0, body_length)) == stored;
}

namespace {
Result<Record> decode_record_or_throw(std::string_view raw);
}  // namespace

// simdjson's on-demand API throws where a value has an unexpected type (found by fuzzing: an
// uncaught simdjson_error ended the process); a damaged record is an error, never a crash.
Result<Record> decode_record(std::string_view raw) {
  try {
    return decode_record_or_throw(raw);
  } catch (const simdjson::simdjson_error& e) {
    return corrupt(e.what());
  }
}

namespace {
Result<Record> decode_record_or_throw(std::string_view raw) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(raw);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return corrupt("not JSON");
  object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return corrupt("not an object");
  Record r;
  std::int64_t schema = 0;
  std::string type, at;
  bool data_ok = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return corrupt("bad key");
    value v = field.value();
    bool ok = true;
    if (key == "schema") {
      ok = v.get_int64().get(schema) == simdjson::SUCCESS;
    } else if (key == "seq") {
      ok = v.get_uint64().get(r.seq) == simdjson::SUCCESS;
    } else if (key == "at") {
      ok = get_string(v, at);
    } else if (key == "type") {
      ok = get_string(v, type);
    } else if (key == "stream") {
      ok = get_string(v, r.stream);
    } else if (key == "version") {
      ok = v.get_uint64().get(r.version) == simdjson::SUCCESS;
    } else if (key == "actor") {
      ok = for_each_field(v, [&](std::string_view k, value f) {
        if (k == "user") return get_string(f, r.actor.user);
        if (k == "via") return get_string(f, r.actor.via);
        if (k == "token_id") return get_string(f, r.actor.token_id);
        return true;
      });
    } else if (key == "source") {
      ok = for_each_field(v, [&](std::string_view k, value f) {
        if (k == "ip") return get_optional_string(f, r.source.ip);
        if (k == "user_agent") return get_optional_string(f, r.source.user_agent);
        if (k == "request_id") return get_optional_string(f, r.source.request_id);
        return true;
      });
    } else if (key == "token_id") {
      ok = get_optional_string(v, r.token_id);
    } else if (key == "owner") {
      ok = get_optional_string(v, r.owner);
    } else if (key == "data") {
      // `type` precedes `data` in every schema this codec has written.
      ok = data_ok = decode_data(type, v, r.event);
    } else if (key == "prev_hash") {
      ok = get_string(v, r.prev_hash);
    } else if (key == "hash") {
      ok = get_string(v, r.hash);
    }
    if (!ok) return corrupt("bad field '" + std::string(key) + "'");
  }
  if (schema != kRecordSchema) return corrupt("unknown schema " + std::to_string(schema));
  if (!data_ok) return corrupt("missing or unknown data for type '" + type + "'");
  auto parsed_at = parse_rfc3339(at);
  if (!parsed_at) return corrupt("bad time");
  r.at = *parsed_at;
  // The owner is written once, at the top level, not again inside TokenCreated's data.
  if (auto* created = std::get_if<TokenCreated>(&r.event)) created->owner = r.owner;
  r.raw.assign(raw);
  return r;
}
}  // namespace

}  // namespace tl
