// The JSON pieces the record decoder is made of (eventstore/record_decoder.cpp), shared with the
// decoding of the access events' data (record_decoder_access.cpp). Internal to eventstore/.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>

#include "domain/events.hpp"

namespace tl::record_json {

using simdjson::ondemand::field;
using simdjson::ondemand::value;

// Whether `v` is well-formed JSON, at most 16 levels deep (read whole, so nothing is skipped unchecked).
bool check_value(value v, int depth);
bool check_field(field& f, int depth);

// Inline: they sit on the fold path, once per field of every record.
inline bool get_string(value v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  out.assign(s);
  return true;
}

inline bool get_nonempty_string(value v, std::string& out) { return get_string(v, out) && !out.empty(); }

// null reads as "".
inline bool get_optional_string(value v, std::string& out) {
  bool null = false;
  if (v.is_null().get(null) != simdjson::SUCCESS) return false;
  if (null) {
    out.clear();
    return true;
  }
  return get_string(v, out);
}

// Calls f(field&) for each field; f compares f.key() raw (keys this codec writes never need
// unescaping) and hands fields it does not know to `other`.
template <class F>
bool for_each_field(value v, F&& f) {
  simdjson::ondemand::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto item : o) {
    field fl;
    if (std::move(item).get(fl) != simdjson::SUCCESS || !f(fl)) return false;
  }
  return true;
}

// The event's alternative E, kept when `event` already holds one (its strings keep their
// buffers; the caller clears or assigns every field), otherwise fresh.
template <class E>
E& reuse_as(Event& event) {
  if (auto* e = std::get_if<E>(&event)) return *e;
  return event.template emplace<E>();
}

// The data object of the access events (UserSignedIn … ServerStopped) into
// `event`; false for another type or a malformed value. `strict`: fields not read are checked.
bool access_data(std::string_view type, value v, Event& event, bool strict);

}  // namespace tl::record_json
