#include "http/json_requests.hpp"

#include <simdjson.h>

#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <functional>
#include <set>

#include "domain/user.hpp"

namespace tl {
namespace {

using simdjson::ondemand::value;
using FieldHandler = std::function<Status(std::string_view key, value v)>;

// Fields of a token that exist but are never set by a client.
bool is_read_only_token_field(std::string_view key) {
  for (std::string_view f : {"token", "code", "id", "created_at", "updated_at", "expires_at", "expired", "masked",
                             "version", "owner", "last_used_at"}) {
    if (key == f) return true;
  }
  return false;
}

Error bad_json() { return Error::invalid_json("The body is not a JSON object."); }

Status for_each_field(std::string_view body, const FieldHandler& handle) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return bad_json();
  std::set<std::string, std::less<>> seen;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad_json();
    if (!seen.emplace(key).second) return Error::invalid_json("The field '" + std::string(key) + "' is repeated.");
    if (auto s = handle(key, field.value()); !s) return s;
  }
  // Anything after the object (a second value, garbage) makes the body malformed.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) return bad_json();
  return {};
}

// A JSON string that does not decode to text: an escape of a lone surrogate ("\ud800"), which
// RFC 8259 §8.2 allows in the syntax but which names no character (RFC 3629 §3).
bool is_undecodable_string(value& v) {
  simdjson::ondemand::json_type type;
  return !v.type().get(type) && type == simdjson::ondemand::json_type::string;
}

Error not_a_string(value& v, const std::string& what) {
  if (is_undecodable_string(v)) {
    return Error::invalid_field(what + " valid UTF-8 text (a \\u escape of a lone surrogate names no character).");
  }
  return Error::invalid_field(what + " a string.");
}

Status read_string(value v, std::string_view name, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return not_a_string(v, std::string(name) + ": must be");
  out.assign(s);
  return {};
}

Status read_bool(value v, std::string_view name, bool& out) {
  if (v.get_bool().get(out)) return Error::invalid_field(std::string(name) + ": must be true or false.");
  return {};
}

Status read_groups(value v, std::vector<std::string>& out) {
  simdjson::ondemand::array array;
  if (v.get_array().get(array)) return Error::invalid_field("groups: must be an array of strings.");
  for (auto item : array) {
    std::string_view s;
    value element;
    if (item.get(element)) return Error::invalid_field("groups: must be an array of strings.");
    if (element.get_string().get(s)) return not_a_string(element, "groups: each must be");
    out.emplace_back(s);
  }
  return {};
}

// {"value": <whole number>, "unit": "days"}
Status read_timeout(value v, std::int64_t& days) {
  const Error wrong = Error::invalid_field(R"(timeout: must be {"value": <whole number of days>, "unit": "days"}.)");
  simdjson::ondemand::object object;
  if (v.get_object().get(object)) return wrong;
  bool has_value = false;
  std::set<std::string, std::less<>> seen;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return wrong;
    if (!seen.emplace(key).second)
      return Error::invalid_json("timeout: the field '" + std::string(key) + "' is repeated.");
    if (key == "value") {
      if (field.value().get_int64().get(days)) return wrong;
      has_value = true;
    } else if (key == "unit") {
      std::string_view unit;
      if (field.value().get_string().get(unit) || unit != "days") {
        return Error::invalid_field("timeout: the only unit is \"days\".");
      }
    } else {
      return Error::unknown_field("timeout: unknown field '" + std::string(key) + "'.");
    }
  }
  if (!has_value) return wrong;
  return {};
}

Error unknown(std::string_view key) {
  if (is_read_only_token_field(key)) return Error::unknown_field("'" + std::string(key) + "' cannot be set.");
  return Error::unknown_field("Unknown field '" + std::string(key) + "'.");
}

Status require(bool present, std::string_view name) {
  if (!present) return Error::invalid_field(std::string(name) + ": required.");
  return {};
}

}  // namespace

Result<LoginBody> parse_login(std::string_view body) {
  LoginBody out;
  bool user = false, pass = false;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "username") return user = true, read_string(v, key, out.username);
    if (key == "password") return pass = true, read_string(v, key, out.password);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (auto r = require(user, "username"); !r) return std::move(r).error();
  if (auto r = require(pass, "password"); !r) return std::move(r).error();
  out.username = canonical_username(out.username);  // the throttle and the look-up see one spelling
  return out;
}

Result<CreateTokenBody> parse_create_token(std::string_view body) {
  CreateTokenBody out;
  bool description = false, timeout = false;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "description") return description = true, read_string(v, key, out.description);
    if (key == "timeout") return timeout = true, read_timeout(v, out.timeout_days);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (auto r = require(description, "description"); !r) return std::move(r).error();
  if (auto r = require(timeout, "timeout"); !r) return std::move(r).error();
  return out;
}

Result<UpdateTokenBody> parse_update_token(std::string_view body) {
  UpdateTokenBody out;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "description") return read_string(v, key, out.description.emplace());
    if (key == "timeout") return read_timeout(v, out.timeout_days.emplace());
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  return out;
}

Result<CreateUserBody> parse_create_user(std::string_view body) {
  CreateUserBody out;
  bool user = false, pass = false;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "username") return user = true, read_string(v, key, out.username);
    if (key == "password") return pass = true, read_string(v, key, out.password);
    if (key == "groups") return read_groups(v, out.groups);
    if (key == "must_change") return read_bool(v, key, out.must_change);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (auto r = require(user, "username"); !r) return std::move(r).error();
  if (auto r = require(pass, "password"); !r) return std::move(r).error();
  return out;
}

Result<PatchUserBody> parse_patch_user(std::string_view body) {
  PatchUserBody out;
  bool must_change = false;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "groups") return read_groups(v, out.groups.emplace());
    if (key == "password") return read_string(v, key, out.password.emplace());
    if (key == "disabled") {
      if (v.get_bool().get(out.disabled.emplace())) return Error::invalid_field("disabled: must be true or false.");
      return Status{};
    }
    if (key == "must_change") return must_change = true, read_bool(v, key, out.must_change);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (!out.groups && !out.password && !out.disabled) {
    return Error::invalid_field("Give groups, password and/or disabled.");
  }
  if (must_change && !out.password) return Error::invalid_field("must_change: only with password.");
  return out;
}

Result<ChangePasswordBody> parse_change_password(std::string_view body) {
  ChangePasswordBody out;
  bool current = false, next = false;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "current") return current = true, read_string(v, key, out.current);
    if (key == "new") return next = true, read_string(v, key, out.next);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (auto r = require(current, "current"); !r) return std::move(r).error();
  if (auto r = require(next, "new"); !r) return std::move(r).error();
  return out;
}

Result<std::string> parse_reauth(std::string_view body) {
  std::optional<std::string> password;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "password") return read_string(v, key, password.emplace());
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (!password) return Error::invalid_field("password: required.");
  return std::move(*password);
}

Result<std::string> parse_revoke(std::string_view body) {
  std::optional<std::string> reason;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "reason") return read_string(v, key, reason.emplace());
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  if (!reason) return Error::invalid_field("reason: required.");
  return std::move(*reason);
}

Result<std::string> parse_introspect_json(std::string_view body) {
  std::optional<std::string> token;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "token") return read_string(v, key, token.emplace());
    return Status{};  // RFC 7662 lets callers send hints such as token_type_hint
  });
  if (!s) return std::move(s).error();
  if (!token) return Error::invalid_field("token: required.");
  return std::move(*token);
}

Result<std::string> parse_introspect_form(std::string_view body) {
  // Boost.URL 1.81's parse_query runs strlen over the view's data (found by fuzzing: a read past
  // the end of an unterminated view, and a wrong length at an embedded NUL). So it only ever
  // sees a NUL-terminated copy without NULs.
  if (body.empty() || body.find('\0') != std::string_view::npos) {
    return Error::invalid_field("token: required.");
  }
  const std::string terminated(body);
  if (!boost::urls::parse_query(terminated)) return Error::invalid_field("The form body is malformed.");
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  // RFC 7662 §2.1 has one token per request; a second one is refused rather than one of them
  // silently chosen, as the JSON twin refuses a repeated field.
  std::optional<std::string> token;
  for (auto param : boost::urls::params_view(terminated, form)) {
    if (param.key != "token") continue;
    if (token) return Error::invalid_field("token: given more than once.");
    token.emplace(param.value);
  }
  if (!token) return Error::invalid_field("token: required.");
  return std::move(*token);
}

Result<CosignatureBody> parse_cosignature(std::string_view body) {
  CosignatureBody out;
  bool size = false, line = false, key = false;
  auto s = for_each_field(body, [&](std::string_view name, value v) -> Status {
    if (name == "tree_size") {
      size = true;
      if (v.get_uint64().get(out.tree_size) || out.tree_size == 0) {
        return Error::invalid_field("tree_size: must be a whole number of at least 1.");
      }
      return {};
    }
    if (name == "cosignature") {
      line = true;
      return read_string(v, name, out.cosignature);
    }
    if (name == "public_key") {
      key = true;
      return read_string(v, name, out.public_key);
    }
    return unknown(name);
  });
  if (!s) return std::move(s).error();
  if (!size) return Error::invalid_field("tree_size: required.");
  if (!line) return Error::invalid_field("cosignature: required (one signature line, \"— name base64\").");
  if (!key) return Error::invalid_field("public_key: required (the cosigner's Ed25519 public key, hex).");
  return out;
}

Result<CreateBackupBody> parse_create_backup(std::string_view body) {
  CreateBackupBody out;
  auto s = for_each_field(body, [&](std::string_view key, value v) -> Status {
    if (key == "include_keys") return read_bool(v, key, out.include_keys);
    return unknown(key);
  });
  if (!s) return std::move(s).error();
  return out;
}

}  // namespace tl
