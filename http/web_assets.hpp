// The web UI's files, compiled into the binary (http/web/, embedded by cmake/embed_web.cmake).
#pragma once

#include <span>
#include <string_view>

namespace tl {

struct WebAsset {
  std::string_view path;  // "/index.html", "/app.js", …
  std::string_view content_type;
  std::string_view body;
};

std::span<const WebAsset> web_assets();

}  // namespace tl
