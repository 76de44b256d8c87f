#include "tools/export_manifest.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "common/time_format.hpp"
#include "domain/user.hpp"
#include "tools/cli.hpp"

namespace tl::admin {
namespace {

constexpr const char* kFilterNames[] = {"token_id", "actor", "owner",     "type",
                                        "since",    "until", "after_seq", "head_seq"};

std::optional<std::uint64_t> optional_seq(simdjson::dom::object o, const char* key, const std::string& path) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) throw Failure(path + ": the manifest has no \"" + key + "\"");
  if (e.is_null()) return std::nullopt;
  std::uint64_t n = 0;
  if (e.get_uint64().get(n) != simdjson::SUCCESS) throw Failure(path + ": \"" + key + "\" is not a seq or null");
  return n;
}

// A filter's value as text: a string, or for a seq also a number.
std::string filter_text(std::string_view name, simdjson::dom::element value, const std::string& path) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  std::uint64_t n = 0;
  if ((name == "after_seq" || name == "head_seq") && value.get_uint64().get(n) == simdjson::SUCCESS) {
    return std::to_string(n);
  }
  throw Failure(path + ": filter \"" + std::string(name) + "\" is not a string");
}

std::uint64_t filter_seq(const std::string& name, const std::string& text, const std::string& path) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw Failure(path + ": filter \"" + name + "\" is not a seq: \"" + printable(text) + "\"");
  }
  return n;
}

Timestamp filter_time(const std::string& name, const std::string& text, const std::string& path) {
  const auto t = parse_rfc3339_precise(text);
  if (!t) throw Failure(path + ": filter \"" + name + "\" is not an RFC 3339 time: \"" + printable(text) + "\"");
  return t->ceil();  // at >= since and at < until, at full precision (time_format.hpp)
}

void parse_filter(const std::string& name, const std::string& text, AuditFilter& f, const std::string& path) {
  if (name == "token_id") f.token_id = text;
  if (name == "actor") f.actor = text;
  if (name == "owner") f.owner = canonical_username(text);  // as the server folds it
  if (name == "type") f.type = text;
  if (name == "since") f.since = filter_time(name, text, path);
  if (name == "until") f.until = filter_time(name, text, path);
  if (name == "after_seq") f.after_seq = filter_seq(name, text, path);
  if (name == "head_seq") f.head_seq = filter_seq(name, text, path);
}

std::string breach(const std::string& name, const std::string& value, const std::string& what) {
  return "\"" + name + "\":\"" + printable(value) + "\" (" + what + ")";
}

}  // namespace

bool ExportManifest::filtered() const {
  return std::any_of(filters.begin(), filters.end(), [](const auto& f) { return f.first != "head_seq"; });
}

ExportManifest read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path + ": no such file or no permission", ErrorKind::cannot_open);
  std::ostringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(text).get_object().get(root) != simdjson::SUCCESS) throw Failure(path + " is not a JSON object");
  std::string_view kind;
  std::uint64_t version = 0;
  if (root["manifest"].get_string().get(kind) != simdjson::SUCCESS || kind != "tokenledger-audit-export") {
    throw Failure(path + ": \"manifest\" is not \"tokenledger-audit-export\" (not an export manifest)");
  }
  if (root["version"].get_uint64().get(version) != simdjson::SUCCESS || version != 1) {
    throw Failure(path + ": \"version\" is not 1 (a manifest this tool does not know)");
  }
  ExportManifest m;
  simdjson::dom::object filters, head;
  if (root["filters"].get_object().get(filters) != simdjson::SUCCESS)
    throw Failure(path + ": \"filters\" is not an object");
  for (auto [name, value] : filters) {
    if (std::find(std::begin(kFilterNames), std::end(kFilterNames), name) == std::end(kFilterNames)) {
      throw Failure(path + ": unknown filter \"" + std::string(name) + "\" in \"filters\"");
    }
    m.filters.emplace_back(std::string(name), filter_text(name, value, path));
    parse_filter(m.filters.back().first, m.filters.back().second, m.filter, path);
  }
  std::string_view hash;
  if (root["head"].get_object().get(head) != simdjson::SUCCESS || head["seq"].get_uint64().get(m.head_seq) ||
      head["hash"].get_string().get(hash)) {
    throw Failure(path + ": \"head\" is not {\"seq\":N,\"hash\":\"…\"}");
  }
  m.head_hash = std::string(hash);
  if (root["count"].get_uint64().get(m.count) != simdjson::SUCCESS) throw Failure(path + ": \"count\" is not a number");
  m.first_seq = optional_seq(root, "first_seq", path);
  m.last_seq = optional_seq(root, "last_seq", path);
  simdjson::dom::element checkpoint;
  if (root["checkpoint"].get(checkpoint) != simdjson::SUCCESS)
    throw Failure(path + ": the manifest has no \"checkpoint\"");
  if (!checkpoint.is_null()) {
    // parse_checkpoint rebuilds the signed bytes from the fields, so any JSON layout verifies.
    auto parsed = parse_checkpoint(simdjson::minify(checkpoint));
    if (!parsed) throw Failure(path + ": \"checkpoint\" cannot be read: " + parsed.error().message);
    m.checkpoint = std::move(parsed).value();
  }
  return m;
}

}  // namespace tl::admin

namespace tl::admin {

std::string manifest_filter_breach(const ExportManifest& m, const Record& r) {
  const auto given = [&](const char* name) {
    for (const auto& [n, v] : m.filters) {
      if (n == name) return v;
    }
    return std::string();
  };
  const AuditFilter& f = m.filter;
  if (!f.token_id.empty() && r.token_id != f.token_id) {
    return breach("token_id", f.token_id, "the record's token_id is \"" + printable(r.token_id) + "\"");
  }
  if (!f.actor.empty() && r.actor.user != f.actor) {
    return breach("actor", f.actor, "the record's actor is \"" + printable(r.actor.user) + "\"");
  }
  if (!f.owner.empty() && r.owner != f.owner) {
    return breach("owner", f.owner, "the record's owner is \"" + printable(r.owner) + "\"");
  }
  if (!f.type.empty() && event_type(r.event) != f.type) {
    return breach("type", f.type, "the record's type is \"" + std::string(event_type(r.event)) + "\"");
  }
  if (f.since && r.at < *f.since) return breach("since", given("since"), "the record's at is " + format_rfc3339(r.at));
  if (f.until && r.at >= *f.until) return breach("until", given("until"), "the record's at is " + format_rfc3339(r.at));
  if (r.seq <= f.after_seq) return breach("after_seq", given("after_seq"), "the record's seq is not above it");
  if (f.head_seq && r.seq > *f.head_seq) return breach("head_seq", given("head_seq"), "the record's seq is above it");
  if (r.seq > m.head_seq) {
    return "\"head\":{\"seq\":" + std::to_string(m.head_seq) + "} (the record's seq is above the manifest's head)";
  }
  return {};
}

}  // namespace tl::admin
