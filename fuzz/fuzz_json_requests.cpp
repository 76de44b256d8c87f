// libFuzzer: every JSON request decoder of http/json_requests.hpp on the same bytes. A decoder
// must answer a value or an error, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/json_requests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)tl::parse_login(body);
  (void)tl::parse_create_token(body);
  (void)tl::parse_update_token(body);
  (void)tl::parse_create_user(body);
  (void)tl::parse_patch_user(body);
  (void)tl::parse_reauth(body);
  (void)tl::parse_revoke(body);
  (void)tl::parse_introspect_json(body);
  return 0;
}
