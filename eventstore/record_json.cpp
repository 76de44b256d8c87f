#include "eventstore/record_json.hpp"

namespace tl::record_json {

using simdjson::SUCCESS;
using simdjson::ondemand::object;

namespace {
constexpr int kMaxDepth = 16;
}  // namespace

bool check_field(field& f, int depth) {
  std::string_view key;
  return f.unescaped_key().get(key) == SUCCESS && check_value(f.value(), depth);
}

bool check_value(value v, int depth) {
  if (depth > kMaxDepth) return false;
  simdjson::ondemand::json_type type;
  if (v.type().get(type) != SUCCESS) return false;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      object o;
      if (v.get_object().get(o) != SUCCESS) return false;
      for (auto item : o) {
        field f;
        if (std::move(item).get(f) != SUCCESS || !check_field(f, depth + 1)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array a;
      if (v.get_array().get(a) != SUCCESS) return false;
      for (auto item : a) {
        value inner;
        if (item.get(inner) != SUCCESS || !check_value(inner, depth + 1)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) == SUCCESS;
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number n;
      return v.get_number().get(n) == SUCCESS;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      return v.get_bool().get(b) == SUCCESS;
    }
    case simdjson::ondemand::json_type::null: {
      bool null = false;
      return v.is_null().get(null) == SUCCESS && null;
    }
  }
  return false;
}

}  // namespace tl::record_json
