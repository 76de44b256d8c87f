#include "tools/export_manifest.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tools/cli.hpp"

namespace tl::admin {
namespace {

constexpr const char* kFilterNames[] = {"token_id", "actor", "type", "since", "until", "after_seq", "head_seq"};

// The exact bytes of the object after `"checkpoint":` (its signature covers the bytes, so they
// are cut out rather than parsed and written again). Inside a JSON string a quote is escaped, so
// the unescaped key cannot be matched there.
std::string checkpoint_bytes(const std::string& text) {
  const std::string key = R"("checkpoint":)";
  auto pos = text.find(key);
  if (pos == std::string::npos) return {};
  pos = text.find_first_not_of(" \t\r\n", pos + key.size());
  if (pos == std::string::npos || text[pos] != '{') return {};
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return text.substr(pos, i - pos + 1);
    }
  }
  return {};
}

std::optional<std::uint64_t> optional_seq(simdjson::dom::object o, const char* key, const std::string& path) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) throw Failure(path + ": the manifest has no \"" + key + "\"");
  if (e.is_null()) return std::nullopt;
  std::uint64_t n = 0;
  if (e.get_uint64().get(n) != simdjson::SUCCESS) throw Failure(path + ": \"" + key + "\" is not a seq or null");
  return n;
}

}  // namespace

bool ExportManifest::filtered() const {
  return std::any_of(filters.begin(), filters.end(), [](const std::string& f) { return f != "head_seq"; });
}

ExportManifest read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path + ": no such file or no permission");
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
  if (root["filters"].get_object().get(filters) != simdjson::SUCCESS) throw Failure(path + ": \"filters\" is not an object");
  for (auto [name, value] : filters) {
    if (std::find(std::begin(kFilterNames), std::end(kFilterNames), name) == std::end(kFilterNames)) {
      throw Failure(path + ": unknown filter \"" + std::string(name) + "\" in \"filters\"");
    }
    m.filters.emplace_back(name);
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
  if (root["checkpoint"].get(checkpoint) != simdjson::SUCCESS) throw Failure(path + ": the manifest has no \"checkpoint\"");
  if (!checkpoint.is_null()) {
    auto parsed = parse_checkpoint(checkpoint_bytes(text));
    if (!parsed) throw Failure(path + ": \"checkpoint\" cannot be read: " + parsed.error().message);
    m.checkpoint = std::move(parsed).value();
  }
  return m;
}

}  // namespace tl::admin
