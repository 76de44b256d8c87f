#include "common/hex.hpp"

#include <sodium.h>

namespace tl {

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view hex) {
  if (hex.empty()) return std::vector<unsigned char>{};  // sodium_hex2bin must not get a null buffer
  std::vector<unsigned char> bin(hex.size() / 2);
  std::size_t len = 0;
  if (hex.size() % 2 != 0 ||
      sodium_hex2bin(bin.data(), bin.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != bin.size()) {
    return std::nullopt;
  }
  return bin;
}

}  // namespace tl
