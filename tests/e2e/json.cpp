// The e2e tests' minimal JSON reader (declared in http_client.hpp): strict enough that a
// malformed response body fails the test.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "http_client.hpp"

namespace e2e {

namespace {
const Json& null_json() {
  static const Json null;
  return null;
}

const char* kind_name(Json::Kind k) {
  switch (k) {
    case Json::Kind::null:
      return "null";
    case Json::Kind::boolean:
      return "bool";
    case Json::Kind::number:
      return "number";
    case Json::Kind::string:
      return "string";
    case Json::Kind::array:
      return "array";
    case Json::Kind::object:
      return "object";
  }
  return "?";
}

void expect_kind(Json::Kind have, Json::Kind want) {
  if (have != want) {
    throw std::runtime_error(std::string("JSON: expected ") + kind_name(want) + ", found " + kind_name(have));
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}
}  // namespace

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Json document() {
    Json v = value(0);
    skip_ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_) +
                             " in: " + std::string(s_.substr(0, 300)));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool take(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  Json value(int depth) {
    if (depth > 200) fail("nested too deeply");
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      v.kind_ = Json::Kind::object;
      ++i_;
      skip_ws();
      if (take("}")) return v;
      for (;;) {
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a member name");
        v.keys_.push_back(string());
        skip_ws();
        if (!take(":")) fail("expected ':'");
        v.items_.push_back(value(depth + 1));
        skip_ws();
        if (take("}")) return v;
        if (!take(",")) fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind_ = Json::Kind::array;
      ++i_;
      skip_ws();
      if (take("]")) return v;
      for (;;) {
        v.items_.push_back(value(depth + 1));
        skip_ws();
        if (take("]")) return v;
        if (!take(",")) fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind_ = Json::Kind::string;
      v.string_ = string();
      return v;
    }
    if (take("true")) return v.kind_ = Json::Kind::boolean, v.bool_ = true, v;
    if (take("false")) return v.kind_ = Json::Kind::boolean, v.bool_ = false, v;
    if (take("null")) return v;
    return number();
  }

  Json number() {
    const std::size_t start = i_;
    auto digits = [&] {
      const std::size_t from = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (!digits()) fail("unexpected character");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) fail("bad fraction");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) fail("bad exponent");
    }
    Json v;
    v.kind_ = Json::Kind::number;
    v.number_ = std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr);
    return v;
  }

  std::uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    std::uint32_t cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      cp <<= 4;
      if (h >= '0' && h <= '9')
        cp |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        cp |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        cp |= static_cast<std::uint32_t>(h - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return cp;
  }

  std::string string() {
    ++i_;  // the opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      switch (s_[i_++]) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!take("\\u")) fail("lone high surrogate");
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone low surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

Json Json::parse(std::string_view text) { return JsonParser(text).document(); }

bool Json::has(std::string_view key) const {
  return kind_ == Kind::object && std::find(keys_.begin(), keys_.end(), key) != keys_.end();
}

const Json& Json::operator[](std::string_view key) const {
  if (kind_ != Kind::object) return null_json();
  for (std::size_t k = 0; k < keys_.size(); ++k) {
    if (keys_[k] == key) return items_[k];
  }
  return null_json();
}

const Json& Json::operator[](std::size_t index) const {
  expect_kind(kind_, Kind::array);
  if (index >= items_.size()) {
    throw std::runtime_error("JSON: index " + std::to_string(index) + " out of range (size " +
                             std::to_string(items_.size()) + ")");
  }
  return items_[index];
}

std::size_t Json::size() const {
  if (kind_ != Kind::array && kind_ != Kind::object) expect_kind(kind_, Kind::array);
  return items_.size();
}

const std::vector<Json>& Json::items() const {
  if (kind_ != Kind::array && kind_ != Kind::object) expect_kind(kind_, Kind::array);
  return items_;
}

const std::vector<std::string>& Json::keys() const {
  expect_kind(kind_, Kind::object);
  return keys_;
}

const std::string& Json::str() const {
  expect_kind(kind_, Kind::string);
  return string_;
}

double Json::num() const {
  expect_kind(kind_, Kind::number);
  return number_;
}

std::int64_t Json::integer() const {
  expect_kind(kind_, Kind::number);
  if (std::floor(number_) != number_) throw std::runtime_error("JSON: not a whole number");
  return static_cast<std::int64_t>(number_);
}

bool Json::boolean() const {
  expect_kind(kind_, Kind::boolean);
  return bool_;
}

}  // namespace e2e
