// Running commands from the fault tests, and RocksDB's own `ldb` (Debian rocksdb-tools) on a
// stopped server's data directory: tampering as someone holding the disk would do it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faults {

struct Outcome {
  int exit_code = -1;
  std::string out;  // standard output and error together
};

// Runs argv (no shell), killed after `limit`.
Outcome run(const std::vector<std::string>& args, std::chrono::seconds limit = std::chrono::seconds(120));

std::string hex_of(std::string_view bytes);  // "0x…", as ldb --hex takes keys and values
std::string seq_key(std::uint64_t seq);      // the events key of a seq, in hex

// ldb on a column family of DIR/db, keys and values in hex. The helpers below fail the calling
// test (gtest assertions) when ldb does.
Outcome ldb(const std::string& data, const std::string& family, std::vector<std::string> args);
std::string ldb_get(const std::string& data, const std::string& family, const std::string& hex_key);
void ldb_put(const std::string& data, const std::string& family, const std::string& hex_key, std::string_view value);
void ldb_delete(const std::string& data, const std::string& family, const std::string& hex_key);
std::vector<std::string> ldb_keys(const std::string& data, const std::string& family);  // hex, in order
// Every key and value (as bytes), in order.
std::vector<std::pair<std::string, std::string>> ldb_entries(const std::string& data, const std::string& family);

}  // namespace faults
