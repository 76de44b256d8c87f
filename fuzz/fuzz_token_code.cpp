// libFuzzer: the token-code parser (prefix, length, alphabet, checksum).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eventstore/token_secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view code(reinterpret_cast<const char*>(data), size);
  if (tl::code_well_formed(code)) {
    // A well-formed code has the documented shape.
    if (code.size() != tl::kCodeLength || !code.starts_with(tl::kCodePrefix)) __builtin_trap();
  }
  return 0;
}
