// The OpenAPI document served at GET /api/v1/openapi.json (http/web/openapi.json, embedded)
// checked against the routes the server really has (tl::route_list(), from kRoutes).
//
// These tests fail when a route is missing from the document (DocumentsEveryRoute) and when
// the document names a path or method that no route serves (NamesOnlyRealRoutes): the two
// cannot drift apart without a red test. Checked by hand: removing "/api/v1/me" from the
// document, or adding a "put" to "/api/v1/tokens/{id}", makes this file fail.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/router.hpp"
#include "http/web_assets.hpp"

namespace tl {
namespace {

using MethodAndPath = std::pair<std::string, std::string>;  // ("GET", "/api/v1/tokens/{}")

// The web UI's own routes: they serve the UI's files, not the API, and are not documented.
bool is_web_ui_route(std::string_view pattern) { return pattern == "/" || pattern == "/{}"; }

std::optional<std::string_view> embedded_document() {
  for (const WebAsset& asset : web_assets()) {
    if (asset.path == "/openapi.json") return asset.body;
  }
  return std::nullopt;
}

// "/api/v1/tokens/{id}/reveal" -> "/api/v1/tokens/{}/reveal", the router's spelling.
std::string normalise(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const std::size_t close = path.find('}', i);
      if (close == std::string_view::npos) return std::string(path);  // not a template: left as it is
      out += "{}";
      i = close;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

// The names of the {name} segments of a path, in order.
std::vector<std::string> template_names(std::string_view path) {
  std::vector<std::string> names;
  for (std::size_t open = path.find('{'); open != std::string_view::npos; open = path.find('{', open + 1)) {
    const std::size_t close = path.find('}', open);
    if (close == std::string_view::npos) break;
    names.emplace_back(path.substr(open + 1, close - open - 1));
  }
  return names;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool is_http_method(std::string_view key) {
  for (std::string_view m : {"get", "put", "post", "delete", "options", "head", "patch", "trace"}) {
    if (key == m) return true;
  }
  return false;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto text = embedded_document();
    ASSERT_TRUE(text.has_value()) << "web_assets() has no /openapi.json";
    // The embedded bytes are the file's, with no terminating NUL: copy them into padded memory.
    json_ = simdjson::padded_string(text->data(), text->size());
    const auto error = parser_.parse(json_).get(doc_);
    ASSERT_EQ(error, simdjson::SUCCESS) << "openapi.json is not valid JSON: " << simdjson::error_message(error);
    ASSERT_EQ(doc_["paths"].get(paths_), simdjson::SUCCESS) << "openapi.json has no \"paths\" object";
  }

  // Every (METHOD, normalised path) the document names.
  std::set<MethodAndPath> documented() const {
    std::set<MethodAndPath> out;
    for (auto [path, item] : paths_) {
      simdjson::dom::object operations;
      EXPECT_EQ(item.get(operations), simdjson::SUCCESS) << path << " is not a path item object";
      for (auto [key, operation] : operations) {
        if (is_http_method(key)) out.emplace(upper(key), normalise(path));
      }
    }
    return out;
  }

  // The parameter object, following a "$ref" into this document.
  simdjson::dom::element resolve(simdjson::dom::element parameter) const {
    std::string_view ref;
    if (parameter["$ref"].get(ref) == simdjson::SUCCESS && ref.starts_with("#")) {
      simdjson::dom::element target;
      if (doc_.at_pointer(ref.substr(1)).get(target) == simdjson::SUCCESS) return target;
    }
    return parameter;
  }

  // The names of the path parameters declared in `parameters` (when there is such an array).
  void collect_path_parameters(simdjson::dom::element holder, std::set<std::string>& names) const {
    simdjson::dom::array parameters;
    if (holder["parameters"].get(parameters) != simdjson::SUCCESS) return;
    for (simdjson::dom::element p : parameters) {
      const simdjson::dom::element parameter = resolve(p);
      std::string_view in, name;
      if (parameter["in"].get(in) == simdjson::SUCCESS && in == "path" &&
          parameter["name"].get(name) == simdjson::SUCCESS) {
        names.emplace(name);
      }
    }
  }

  simdjson::padded_string json_;
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
  simdjson::dom::object paths_;
};

TEST_F(OpenApiTest, IsOpenApi31) {
  std::string_view version;
  ASSERT_EQ(doc_["openapi"].get(version), simdjson::SUCCESS);
  EXPECT_EQ(std::string(version), "3.1.0");
}

// Fails when a route of the server is missing from the document (or documented with another
// method).
TEST_F(OpenApiTest, DocumentsEveryRoute) {
  const std::set<MethodAndPath> in_document = documented();
  std::size_t checked = 0;
  for (const auto& [method, pattern] : route_list()) {
    if (is_web_ui_route(pattern)) continue;
    ++checked;
    EXPECT_TRUE(in_document.contains({method, pattern}))
        << method << " " << pattern << " is a route of the server but is not in openapi.json";
  }
  EXPECT_GT(checked, 0u) << "route_list() is empty";
}

// Fails when the document names a path or a method that no route of the server serves.
TEST_F(OpenApiTest, NamesOnlyRealRoutes) {
  std::set<MethodAndPath> routes;
  for (const auto& [method, pattern] : route_list()) {
    if (!is_web_ui_route(pattern)) routes.emplace(method, pattern);
  }
  const std::set<MethodAndPath> in_document = documented();
  EXPECT_FALSE(in_document.empty()) << "openapi.json documents no operation";
  for (const auto& [method, path] : in_document) {
    EXPECT_TRUE(routes.contains({method, path}))
        << method << " " << path << " is in openapi.json but the server has no such route";
  }
}

// Client generators need an operationId on every operation, each one different.
TEST_F(OpenApiTest, EveryOperationHasAUniqueOperationId) {
  std::set<std::string> seen;
  for (auto [path, item] : paths_) {
    simdjson::dom::object operations;
    ASSERT_EQ(item.get(operations), simdjson::SUCCESS);
    for (auto [key, operation] : operations) {
      if (!is_http_method(key)) continue;
      std::string_view id;
      ASSERT_EQ(operation["operationId"].get(id), simdjson::SUCCESS) << upper(key) << " " << path << ": no operationId";
      EXPECT_FALSE(id.empty()) << upper(key) << " " << path;
      EXPECT_TRUE(seen.emplace(id).second) << "operationId " << id << " is used twice";
      simdjson::dom::object responses;
      EXPECT_EQ(operation["responses"].get(responses), simdjson::SUCCESS)
          << upper(key) << " " << path << ": no responses";
    }
  }
}

// Each {name} in a path is declared as a path parameter, on the path item or the operation.
TEST_F(OpenApiTest, DeclaresEveryPathParameter) {
  for (auto [path, item] : paths_) {
    simdjson::dom::object operations;
    ASSERT_EQ(item.get(operations), simdjson::SUCCESS);
    std::set<std::string> on_item;
    collect_path_parameters(item, on_item);
    for (auto [key, operation] : operations) {
      if (!is_http_method(key)) continue;
      std::set<std::string> declared = on_item;
      collect_path_parameters(operation, declared);
      for (const std::string& name : template_names(path)) {
        EXPECT_TRUE(declared.contains(name)) << upper(key) << " " << path << ": {" << name << "} is not declared";
      }
    }
  }
}

}  // namespace
}  // namespace tl
