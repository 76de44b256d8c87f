// Decoding of the access events' data (domain/events.hpp, issue 18), the inverse of codec.cpp's
// write_data for them: the fields written only when set read as empty when absent.
#include "common/time_format.hpp"
#include "eventstore/record_json.hpp"

namespace tl::record_json {
namespace {

using simdjson::SUCCESS;

bool get_time(value v, Timestamp& out) {
  std::string_view text;
  if (v.get_string().get(text) != SUCCESS) return false;
  auto t = parse_rfc3339(text);
  if (!t) return false;
  out = *t;
  return true;
}

bool get_int(value v, int& out) {
  std::int64_t n = 0;
  if (v.get_int64().get(n) != SUCCESS || n < INT32_MIN || n > INT32_MAX) return false;
  out = static_cast<int>(n);
  return true;
}

// Reads the string fields `named` of one event: each (key, member) pair; fields `required` must
// all be present. With `count`, also the optional "count" (written only when not 1: a 1 read back
// would not encode to the same bytes). Unknown fields go to `other`.
template <std::size_t N>
bool string_fields(value v, const std::array<std::pair<std::string_view, std::string*>, N>& named,
                   std::size_t required_mask, bool strict, std::uint64_t* count = nullptr) {
  std::size_t seen = 0;
  for (auto& [key, member] : named) member->clear();
  if (count) *count = 1;
  bool have_count = false;
  const bool ok = for_each_field(v, [&](field& f) {
    std::size_t bit = 1;
    for (const auto& [key, member] : named) {
      if (f.key() == key) {
        seen |= bit;
        return get_string(f.value(), *member);
      }
      bit <<= 1;
    }
    if (count && f.key() == "count") return have_count = f.value().get_uint64().get(*count) == SUCCESS;
    return !strict || check_field(f, 1);
  });
  return ok && (seen & required_mask) == required_mask && (!have_count || *count != 1);
}

bool access_denied(value v, AccessDenied& e, bool strict) {
  e.method.clear(), e.route.clear(), e.target.clear(), e.code.clear(), e.status = 0, e.count = 0;
  e.first_at = {};
  bool have_time = false;
  const bool ok = for_each_field(v, [&](field& f) {
    if (f.key() == "method") return get_string(f.value(), e.method);
    if (f.key() == "route") return get_string(f.value(), e.route);
    if (f.key() == "target") return get_nonempty_string(f.value(), e.target);
    if (f.key() == "status") return get_int(f.value(), e.status);
    if (f.key() == "code") return get_string(f.value(), e.code);
    if (f.key() == "count") return f.value().get_uint64().get(e.count) == SUCCESS;
    if (f.key() == "first_at") return have_time = get_time(f.value(), e.first_at);
    return !strict || check_field(f, 1);
  });
  return ok && have_time;
}

// username, name_hash and count are written only when set (count when not 1); reason always.
bool sign_in_failed(value v, UserSignInFailed& e, bool strict) {
  e.username.clear(), e.name_hash.clear(), e.reason.clear(), e.count = 1;
  bool have_reason = false, have_count = false;
  const bool ok = for_each_field(v, [&](field& f) {
    if (f.key() == "username") return get_nonempty_string(f.value(), e.username);
    if (f.key() == "name_hash") return get_nonempty_string(f.value(), e.name_hash);
    if (f.key() == "reason") return have_reason = get_string(f.value(), e.reason);
    if (f.key() == "count") return have_count = f.value().get_uint64().get(e.count) == SUCCESS;
    return !strict || check_field(f, 1);
  });
  // A count of 1 is never written: one read back would not encode to the same bytes.
  return ok && have_reason && (!have_count || e.count != 1);
}

}  // namespace

bool access_data(std::string_view type, value v, Event& event, bool strict) {
  using Named1 = std::array<std::pair<std::string_view, std::string*>, 1>;
  using Named2 = std::array<std::pair<std::string_view, std::string*>, 2>;
  if (type == "UserSignInFailed") return sign_in_failed(v, reuse_as<UserSignInFailed>(event), strict);
  if (type == "UserSignedIn") {
    auto& e = reuse_as<UserSignedIn>(event);
    return string_fields(v, std::array<std::pair<std::string_view, std::string*>, 0>{}, 0, strict, &e.count);
  }
  if (type == "SessionEnded") {
    auto& e = reuse_as<SessionEnded>(event);
    return string_fields(v, Named2{{{"username", &e.username}, {"reason", &e.reason}}}, 0b11, strict, &e.count);
  }
  if (type == "AccessDenied") return access_denied(v, reuse_as<AccessDenied>(event), strict);
  if (type == "AuditRead") {
    auto& e = reuse_as<AuditRead>(event);
    return string_fields(v, Named2{{{"route", &e.route}, {"filters", &e.filters}}}, 0b11, strict, &e.count);
  }
  if (type == "AuditExported") {
    auto& e = reuse_as<AuditExported>(event);
    return string_fields(v, Named2{{{"format", &e.format}, {"filters", &e.filters}}}, 0b11, strict, &e.count);
  }
  if (type == "ServerStarted") {
    auto& e = reuse_as<ServerStarted>(event);
    return string_fields(v,
                         std::array<std::pair<std::string_view, std::string*>, 4>{{{"version", &e.version},
                                                                                   {"commit", &e.commit},
                                                                                   {"options", &e.options},
                                                                                   {"verification", &e.verification}}},
                         0b1111, strict);
  }
  if (type == "ServerStopped") {
    auto& e = reuse_as<ServerStopped>(event);
    return string_fields(v, Named1{{{"reason", &e.reason}}}, 0b1, strict);
  }
  return false;
}

}  // namespace tl::record_json
