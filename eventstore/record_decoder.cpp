// Decoding of stored records (the other half of codec.hpp).
//
// Decoding sits on the fold path (rebuild, start-up, BM_Fold): callgrind on `tokenledger-admin
// rebuild` showed ~21k instructions per record in decode_record, 57% of them in date.h's
// parse_rfc3339, the rest in allocations (a padded_string and ~12 std::strings per record) and
// key unescaping. So: the caller's Record is reused (assigning into its strings keeps their
// buffers; the event alternative is kept when the type repeats), keys are compared raw, and the
// padded copy goes to a buffer that lives as long as the decoder.
//
// Validation (fuzz/findings/decode_record-accepts-malformed-json): On-Demand checks only the
// values it visits; a value it skips is passed over by counting brackets, so `"x":nul!` inside a
// field nobody read was accepted. In RecordFields::all mode (every caller but the fold) each
// value not read is walked by check_value() and bytes after the object are refused; canonical
// records have next to nothing to skip, so it costs nothing measurable. RecordFields::fold skips
// what the tables never read (actor, source, hashes, the raw bytes) unchecked: it only reads
// records this program wrote and chained, and verify (RecordFields::all) checks every one.
#include <simdjson.h>

#include <cstring>
#include <vector>

#include "common/time_format.hpp"
#include "domain/text_rules.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/record_json.hpp"

namespace tl {
namespace {

using simdjson::SUCCESS;
using simdjson::ondemand::field;
using simdjson::ondemand::object;
using simdjson::ondemand::raw_json_string;
using simdjson::ondemand::value;
using namespace record_json;

Error corrupt(std::string_view what) { return Error::internal("corrupt event record: " + std::string(what)); }

// A raw key for a message: up to its closing quote (the buffer is padded, so this stays inside).
std::string key_text(const raw_json_string& key) {
  const char* begin = key.raw();
  const void* end = std::memchr(begin, '"', 64);
  return end ? std::string(begin, static_cast<const char*>(end)) : std::string(begin, 64);
}

struct Decoder {
  bool strict;  // RecordFields::all

  // A field this decoder does not read: checked when strict, skipped otherwise.
  bool other(field& f) const { return !strict || check_field(f, 1); }

  bool timeout_days(value v, int& days) const {
    bool seen = false;
    const bool ok = for_each_field(v, [&](field& f) {
      if (f.key() != "value") return other(f);
      std::int64_t n = 0;
      if (f.value().get_int64().get(n) != SUCCESS || n < INT32_MIN || n > INT32_MAX) return false;
      days = static_cast<int>(n);
      seen = true;
      return true;
    });
    return ok && seen;
  }

  static bool groups(value v, std::vector<std::string>& out) {
    simdjson::ondemand::array a;
    if (v.get_array().get(a) != SUCCESS) return false;
    out.clear();
    for (auto item : a) {
      std::string_view s;
      if (item.get_string().get(s) != SUCCESS) return false;
      out.emplace_back(s);
    }
    return true;
  }

  bool data(std::string_view type, value v, Event& event) const {
    if (type == "TokenCreated") {
      auto& e = reuse_as<TokenCreated>(event);
      e.description.clear(), e.code_lookup.clear(), e.code_sealed.clear(), e.timeout_days = 0;
      return for_each_field(v, [&](field& f) {
        if (f.key() == "description") return get_string(f.value(), e.description);
        if (f.key() == "timeout") return timeout_days(f.value(), e.timeout_days);
        if (f.key() == "code_lookup") return get_string(f.value(), e.code_lookup);
        if (f.key() == "code_sealed") return get_string(f.value(), e.code_sealed);
        return other(f);
      });
    }
    if (type == "TokenUsed") {
      auto& e = reuse_as<TokenUsed>(event);
      e.ip.clear();
      bool have_time = false;
      const bool ok = for_each_field(v, [&](field& f) {
        if (f.key() == "used_at") {
          std::string_view text;
          if (f.value().get_string().get(text) != SUCCESS) return false;
          auto t = parse_rfc3339(text);
          if (!t) return false;
          e.used_at = *t;
          return have_time = true;
        }
        if (f.key() == "ip") return get_string(f.value(), e.ip);
        return other(f);
      });
      return ok && have_time;
    }
    if (type == "TokenDescriptionChanged") {
      auto& e = reuse_as<TokenDescriptionChanged>(event);
      e.description.clear();
      return for_each_field(
          v, [&](field& f) { return f.key() == "description" ? get_string(f.value(), e.description) : other(f); });
    }
    if (type == "TokenTimeoutChanged") {
      auto& e = reuse_as<TokenTimeoutChanged>(event);
      e.timeout_days = 0;
      return for_each_field(
          v, [&](field& f) { return f.key() == "timeout" ? timeout_days(f.value(), e.timeout_days) : other(f); });
    }
    if (type == "TokenDeleted") {
      auto& e = reuse_as<TokenDeleted>(event);
      e.reason.clear();
      return for_each_field(v,
                            [&](field& f) { return f.key() == "reason" ? get_string(f.value(), e.reason) : other(f); });
    }
    if (type == "TokenExpiryNotified") {
      auto& e = reuse_as<TokenExpiryNotified>(event);
      e.window.clear(), e.delivered = false;
      return for_each_field(v, [&](field& f) {
        if (f.key() == "window") return get_string(f.value(), e.window);
        if (f.key() == "delivered") return f.value().get_bool().get(e.delivered) == SUCCESS;
        return other(f);
      });
    }
    if (type == "UserCreated") {
      auto& e = reuse_as<UserCreated>(event);
      e.username.clear(), e.groups.clear(), e.must_change = false;
      return for_each_field(v, [&](field& f) {
        if (f.key() == "username") return get_string(f.value(), e.username);
        if (f.key() == "groups") return groups(f.value(), e.groups);
        if (f.key() == "must_change") return f.value().get_bool().get(e.must_change) == SUCCESS;
        return other(f);
      });
    }
    if (type == "UserGroupsChanged") {
      auto& e = reuse_as<UserGroupsChanged>(event);
      e.groups.clear();
      return for_each_field(v, [&](field& f) { return f.key() == "groups" ? groups(f.value(), e.groups) : other(f); });
    }
    if (type == "KeyCheckRecorded") {
      auto& e = reuse_as<KeyCheckRecorded>(event);
      e.master_key_check.clear();
      return for_each_field(v, [&](field& f) {
        return f.key() == "master_key_check" ? get_string(f.value(), e.master_key_check) : other(f);
      });
    }
    if (type == "BackupTaken") {
      auto& e = reuse_as<BackupTaken>(event);
      e.name.clear(), e.head_seq = 0, e.head_hash.clear(), e.include_keys = false;
      return for_each_field(v, [&](field& f) {
        if (f.key() == "name") return get_string(f.value(), e.name);
        if (f.key() == "head_seq") return f.value().get_uint64().get(e.head_seq) == SUCCESS;
        if (f.key() == "head_hash") return get_string(f.value(), e.head_hash);
        if (f.key() == "include_keys") return f.value().get_bool().get(e.include_keys) == SUCCESS;
        return other(f);
      });
    }
    if (type == "UserPasswordChanged") {
      auto& e = reuse_as<UserPasswordChanged>(event);
      e.must_change = false;
      return for_each_field(v, [&](field& f) {
        return f.key() == "must_change" ? f.value().get_bool().get(e.must_change) == SUCCESS : other(f);
      });
    }
    if (type == "TokenRevealed") {
      event.emplace<TokenRevealed>();
    } else if (type == "UserReauthenticated") {
      event.emplace<UserReauthenticated>();
    } else if (type == "UserDeleted") {
      event.emplace<UserDeleted>();
    } else if (type == "UserDisabled") {
      event.emplace<UserDisabled>();
    } else if (type == "UserEnabled") {
      event.emplace<UserEnabled>();
    } else {
      return access_data(type, v, event, strict);
    }
    // Events without data still carry an object, checked like any other value.
    return for_each_field(v, [&](field& f) { return other(f); });
  }

  Status record(simdjson::ondemand::parser& parser, simdjson::padded_string_view padded, Record& r) const {
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != SUCCESS) return corrupt("not JSON");
    object root;
    if (doc.get_object().get(root) != SUCCESS) return corrupt("not an object");
    std::int64_t schema = 0;
    // Views into the parser's string buffer, valid for this document.
    std::string_view type, at;
    bool data_ok = false;
    // Absent fields read as empty, as they would in a fresh Record.
    r.seq = r.version = 0;
    r.actor.via = Via::other;
    for (std::string* s : {&r.stream, &r.actor.user, &r.actor.via_other, &r.actor.token_id, &r.source.ip,
                           &r.source.user_agent, &r.source.request_id, &r.token_id, &r.owner, &r.prev_hash, &r.hash}) {
      s->clear();
    }
    for (std::string* s : {&r.actor.login_user, &r.actor.host, &r.actor.sudo_user}) s->clear();
    for (std::string* s : {&r.source.client_request_id, &r.source.peer}) s->clear();
    for (auto item : root) {
      field f;
      if (std::move(item).get(f) != SUCCESS) return corrupt("bad key");
      const raw_json_string key = f.key();
      value v = f.value();
      bool ok = true;
      if (key == "schema") {
        ok = v.get_int64().get(schema) == SUCCESS;
      } else if (key == "seq") {
        ok = v.get_uint64().get(r.seq) == SUCCESS;
      } else if (key == "at") {
        ok = v.get_string().get(at) == SUCCESS;
      } else if (key == "type") {
        ok = v.get_string().get(type) == SUCCESS;
      } else if (key == "stream") {
        ok = get_string(v, r.stream);
      } else if (key == "version") {
        ok = v.get_uint64().get(r.version) == SUCCESS;
      } else if (key == "owner") {
        ok = get_optional_string(v, r.owner);
      } else if (key == "data") {
        // `type` precedes `data` in every schema this codec has written.
        ok = data_ok = data(type, v, r.event);
      } else if (!strict) {
        // The tables read none of the rest.
      } else if (key == "actor") {
        ok = for_each_field(v, [&](field& g) {
          if (g.key() == "user") return get_string(g.value(), r.actor.user);
          if (g.key() == "via") {
            // A name this build does not know stays as text (Via::other), so the record keeps its bytes.
            if (!get_string(g.value(), r.actor.via_other)) return false;
            r.actor.via = via_from_name(r.actor.via_other);
            if (r.actor.via != Via::other) r.actor.via_other.clear();
            return true;
          }
          if (g.key() == "token_id") return get_string(g.value(), r.actor.token_id);
          // Written only when non-empty: an empty one is not a record this codec wrote.
          if (g.key() == "login_user") return get_nonempty_string(g.value(), r.actor.login_user);
          if (g.key() == "host") return get_nonempty_string(g.value(), r.actor.host);
          if (g.key() == "sudo_user") return get_nonempty_string(g.value(), r.actor.sudo_user);
          return other(g);
        });
      } else if (key == "source") {
        ok = for_each_field(v, [&](field& g) {
          if (g.key() == "ip") return get_optional_string(g.value(), r.source.ip);
          if (g.key() == "user_agent") return get_optional_string(g.value(), r.source.user_agent);
          if (g.key() == "request_id") return get_optional_string(g.value(), r.source.request_id);
          // Written only when non-empty, like the actor's OS identity.
          if (g.key() == "client_request_id") return get_nonempty_string(g.value(), r.source.client_request_id);
          if (g.key() == "peer") return get_nonempty_string(g.value(), r.source.peer);
          return other(g);
        });
      } else if (key == "token_id") {
        ok = get_optional_string(v, r.token_id);
      } else if (key == "prev_hash") {
        ok = get_string(v, r.prev_hash);
      } else if (key == "hash") {
        ok = get_string(v, r.hash);
      } else {
        ok = other(f);
      }
      if (!ok) return corrupt("bad field '" + key_text(key) + "'");
    }
    // Past the object there must be nothing left (current_location is out of bounds at the end).
    if (strict && doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      return corrupt("trailing bytes after the record");
    }
    if (schema != kRecordSchema) return corrupt("unknown schema " + std::to_string(schema));
    if (!data_ok) return corrupt("missing or unknown data for type '" + std::string(type) + "'");
    auto parsed_at = parse_rfc3339(at);
    if (!parsed_at) return corrupt("bad time");
    r.at = *parsed_at;
    // The owner is written once, at the top level, not again inside TokenCreated's data.
    if (auto* created = std::get_if<TokenCreated>(&r.event)) created->owner = r.owner;
    if (!strict) {
      r.raw.clear();
      // The token the record is about: for token events, its stream (as the appender writes it).
      if (is_token_event(r.event)) r.token_id = r.stream;
    }
    return {};
  }
};

}  // namespace

struct RecordDecoder::State {
  simdjson::ondemand::parser parser;
  std::vector<char> buffer;
};

RecordDecoder::RecordDecoder() : state_(std::make_unique<State>()) {}
RecordDecoder::~RecordDecoder() = default;

// simdjson's on-demand API throws where a value has an unexpected type (found by fuzzing: an
// uncaught simdjson_error ended the process); a damaged record is an error, never a crash.
Status RecordDecoder::decode(std::string_view raw, Record& record, RecordFields fields) {
  const Decoder decoder{fields == RecordFields::all};
  auto parse = [&](std::string_view bytes) -> Status {
    // RocksDB's slices are not padded: copy into a buffer with simdjson's padding, grown as needed.
    auto& buffer = state_->buffer;
    if (buffer.size() < bytes.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(bytes.size() + simdjson::SIMDJSON_PADDING + 4096);
    }
    std::memcpy(buffer.data(), bytes.data(), bytes.size());
    std::memset(buffer.data() + bytes.size(), ' ', simdjson::SIMDJSON_PADDING);
    try {
      return decoder.record(state_->parser, simdjson::padded_string_view(buffer.data(), bytes.size(), buffer.size()),
                            record);
    } catch (const simdjson::simdjson_error& e) {
      return corrupt(e.what());
    }
  };
  auto decoded = parse(raw);
  // A record written before strings were checked at the boundary may hold bytes that are not
  // UTF-8 (simdjson refuses the whole document). Read it with those bytes as U+FFFD; raw keeps
  // the stored bytes, which the hash covers. Checked only after a failure: the fold stays as fast.
  if (!decoded && !simdjson::validate_utf8(raw)) decoded = parse(to_valid_utf8(raw));
  if (decoded && fields == RecordFields::all) record.raw.assign(raw);
  return decoded;
}

Status decode_record_into(std::string_view raw, Record& record, RecordFields fields) {
  thread_local RecordDecoder decoder;
  return decoder.decode(raw, record, fields);
}

Result<Record> decode_record(std::string_view raw) {
  Record record;
  if (auto decoded = decode_record_into(raw, record); !decoded) return std::move(decoded).error();
  return record;
}

}  // namespace tl
