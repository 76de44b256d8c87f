// A small writer of compact JSON into a std::string. simdjson parses; it does not write,
// so output is built here. Keys and values are written in the order given, which is what
// makes the event record's bytes canonical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tl {

// Appends `s` to `out` as a JSON string literal (quotes included). `s` must be UTF-8.
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  JsonWriter() = default;
  explicit JsonWriter(std::string initial) : out_(std::move(initial)) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view{v}); }
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  // Inserts already-encoded JSON (e.g. a stored event record) as one value.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const& { return out_; }
  std::string str() && { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace tl
