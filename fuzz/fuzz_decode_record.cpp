// libFuzzer: the event codec. decode_record must refuse or accept any bytes without crashing;
// with TOKENLEDGER_FUZZ_STRICT_CODEC=1 set, a record it accepts must also survive encode_record
// and decode again. That check is off by default until decode_record stops accepting malformed
// JSON in fields it skips (fuzz/findings/decode_record-accepts-malformed-json).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "eventstore/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  (void)tl::record_hash_matches(raw);
  auto record = tl::decode_record(raw);
  static const bool strict = std::getenv("TOKENLEDGER_FUZZ_STRICT_CODEC") != nullptr;
  if (!record.ok() || !strict) return 0;
  tl::Record copy = *record;
  tl::encode_record(copy);
  auto again = tl::decode_record(copy.raw);
  if (!again.ok()) __builtin_trap();
  return 0;
}
