// Lowercase hex for keys, hashes, MACs and ciphertexts (libsodium's constant-time codec).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl {

std::string to_hex(const unsigned char* data, std::size_t size);
// nullopt unless `hex` is an even number of hex digits.
std::optional<std::vector<unsigned char>> from_hex(std::string_view hex);

}  // namespace tl
