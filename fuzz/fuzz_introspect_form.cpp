// libFuzzer: the application/x-www-form-urlencoded decoder of POST /api/v1/introspect.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/json_requests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto code = tl::parse_introspect_form(body);
  // A decoded value never grows beyond its encoding.
  if (code.ok() && code->size() > size) __builtin_trap();
  return 0;
}
