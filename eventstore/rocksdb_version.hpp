// The RocksDB version the store is built against, for --version and the build-info metric
// (RocksDB's headers stay inside eventstore/).
#pragma once

#include <string>

namespace tl {

// "MAJOR.MINOR.PATCH" from ROCKSDB_MAJOR/ROCKSDB_MINOR/ROCKSDB_PATCH (rocksdb/version.h).
std::string rocksdb_version();

}  // namespace tl
