#include "common/build_info.hpp"

#include <boost/version.hpp>

namespace tl {

BuildInfo build_info(std::string rocksdb_version) {
  return {.version = std::string(build_values::version()),
          .commit = std::string(build_values::commit()),
          .build_type = std::string(build_values::build_type()),
          .rocksdb = std::move(rocksdb_version),
          .boost = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                   std::to_string(BOOST_VERSION % 100)};
}

std::string version_text(std::string_view program, const BuildInfo& info) {
  std::string out(program);
  out += " " + info.version + "\n";
  out += "commit: " + info.commit + "\n";
  out += "build type: " + info.build_type + "\n";
  out += "RocksDB: " + info.rocksdb + "\n";
  out += "Boost: " + info.boost + "\n";
  return out;
}

}  // namespace tl
