#include "eventstore/codec.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <type_traits>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "domain/text_rules.hpp"

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
          if (e.must_change) w.key("must_change").value(true);
        } else if constexpr (std::is_same_v<E, UserPasswordChanged>) {
          if (e.must_change) w.key("must_change").value(true);
        } else if constexpr (std::is_same_v<E, UserGroupsChanged>) {
          write_groups(w, e.groups);
        } else if constexpr (std::is_same_v<E, KeyCheckRecorded>) {
          w.key("master_key_check").value(e.master_key_check);
        } else if constexpr (std::is_same_v<E, BackupTaken>) {
          w.key("name").value(e.name).key("head_seq").value(e.head_seq).key("head_hash").value(e.head_hash);
          w.key("include_keys").value(e.include_keys);
        } else if constexpr (std::is_same_v<E, UserSignInFailed>) {
          if (!e.username.empty()) w.key("username").value(e.username);
          if (!e.name_hash.empty()) w.key("name_hash").value(e.name_hash);
          w.key("reason").value(e.reason);
          if (e.count != 1) w.key("count").value(e.count);
        } else if constexpr (std::is_same_v<E, UserSignedIn>) {
          if (e.count != 1) w.key("count").value(e.count);
        } else if constexpr (std::is_same_v<E, SessionEnded>) {
          w.key("username").value(e.username).key("reason").value(e.reason);
          if (e.count != 1) w.key("count").value(e.count);
        } else if constexpr (std::is_same_v<E, AccessDenied>) {
          w.key("method").value(e.method).key("route").value(e.route);
          if (!e.target.empty()) w.key("target").value(e.target);
          w.key("status").value(e.status).key("code").value(e.code).key("count").value(e.count);
          w.key("first_at").value(format_rfc3339(e.first_at));
        } else if constexpr (std::is_same_v<E, AuditRead>) {
          w.key("route").value(e.route).key("filters").value(e.filters);
          if (e.count != 1) w.key("count").value(e.count);
        } else if constexpr (std::is_same_v<E, AuditExported>) {
          w.key("format").value(e.format).key("filters").value(e.filters);
          if (e.count != 1) w.key("count").value(e.count);
        } else if constexpr (std::is_same_v<E, ServerStarted>) {
          w.key("version").value(e.version).key("commit").value(e.commit).key("options").value(e.options);
          w.key("verification").value(e.verification);
        } else if constexpr (std::is_same_v<E, ServerStopped>) {
          w.key("reason").value(e.reason);
        }
      },
      event);
  w.end_object();
}

// Removes the member that starts with `key` (`,"name":"`) and its string value from the JSON
// text `json`. Structural: inside a JSON string every quote is escaped, so `,"` never starts there.
void drop_string_member(std::string& json, std::string_view key) {
  const auto at = json.find(key);
  if (at == std::string::npos) return;
  std::size_t end = at + key.size();
  while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
  if (end >= json.size()) return;
  json.erase(at, end + 1 - at);
}

void write_optional(JsonWriter& w, std::string_view key, const std::string& v) {
  w.key(key);
  if (v.empty()) {
    w.null();
  } else {
    w.value(v);
  }
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

std::string encode_record_body(const Record& r) {
  JsonWriter w;
  w.begin_object()
      .key("schema")
      .value(kRecordSchema)
      .key("seq")
      .value(r.seq)
      .key("at")
      .value(format_rfc3339(r.at))
      .key("type")
      .value(event_type(r.event))
      .key("stream")
      .value(r.stream)
      .key("version")
      .value(r.version);
  w.key("actor").begin_object().key("user").value(r.actor.user).key("via").value(r.actor.stored_via());
  if (!r.actor.token_id.empty()) w.key("token_id").value(r.actor.token_id);
  // The admin tool's OS identity: written only when set, so older records keep their bytes.
  if (!r.actor.login_user.empty()) w.key("login_user").value(r.actor.login_user);
  if (!r.actor.host.empty()) w.key("host").value(r.actor.host);
  if (!r.actor.sudo_user.empty()) w.key("sudo_user").value(r.actor.sudo_user);
  w.end_object();
  w.key("source").begin_object();
  write_optional(w, "ip", r.source.ip);
  write_optional(w, "user_agent", r.source.user_agent);
  write_optional(w, "request_id", r.source.request_id);
  // Written only when set, so older records keep their bytes.
  if (!r.source.client_request_id.empty()) w.key("client_request_id").value(r.source.client_request_id);
  if (!r.source.peer.empty()) w.key("peer").value(r.source.peer);
  w.end_object();
  write_optional(w, "token_id", r.token_id);
  write_optional(w, "owner", r.owner);
  write_data(w, r.event);
  w.key("prev_hash").value(r.prev_hash);
  return std::move(w).str();
}

void encode_record(Record& r) {
  std::string body = encode_record_body(r);
  r.hash = sha256_hex(body);
  body += kHashKey;
  body += r.hash;
  body += "\"}";
  r.raw = std::move(body);
}

Status check_round_trip(const Record& record, RecordDecoder& decoder) {
  thread_local Record decoded;
  if (auto read = decoder.decode(record.raw, decoded); !read) {
    return Error::internal("the event record would not read back (" + read.error().message + ")");
  }
  const std::string body = encode_record_body(decoded);
  if (record.raw.size() != body.size() + kHashSuffixLength || record.raw.compare(0, body.size(), body) != 0) {
    return Error::internal("the event record would not read back to the same value");
  }
  return {};
}

void append_record_json(std::string& out, const Record& record, std::optional<std::string_view> token_description) {
  const bool holds_secrets = std::holds_alternative<TokenCreated>(record.event);
  const bool valid = simdjson::validate_utf8(record.raw);
  if (valid && !holds_secrets && !token_description) {
    out += record.raw;  // the common case: no copy
    return;
  }
  std::string view = valid ? record.raw : to_valid_utf8(record.raw);
  if (holds_secrets) {
    for (std::string_view key : {R"(,"code_lookup":")", R"(,"code_sealed":")"}) drop_string_member(view, key);
  }
  if (token_description) {
    JsonWriter w;
    w.begin_object().key("token_description").value(*token_description).end_object();
    std::string member = std::move(w).str();             // {"token_description":"…"}
    member = member.substr(1, member.size() - 2) + ",";  // "token_description":"…",
    const auto data = view.find(R"(,"data":{)");
    view.insert(data == std::string::npos ? 1 : data + 1, member);
  }
  out += view;
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

}  // namespace tl
