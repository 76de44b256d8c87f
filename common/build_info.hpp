// Which build this binary is: what `--version` prints, the tokenledger_build_info metric and
// the "build" object of GET /api/v1/me (admins) show. The commit is compiled into one generated
// file (cmake/build_info.cmake) in the small build_info library, so a new commit relinks the
// binaries without recompiling anything else.
#pragma once

#include <string>
#include <string_view>

namespace tl {

struct BuildInfo {
  std::string version;     // project(VERSION) of the top CMakeLists.txt, e.g. "0.1.0"
  std::string commit;      // git short hash, "-dirty" appended when tracked files differed; "unknown" outside git
  std::string build_type;  // CMAKE_BUILD_TYPE ("Debug", "Release", …; "none" when unset)
  std::string rocksdb;     // "MAJOR.MINOR.PATCH" of the RocksDB headers built against
  std::string boost;       // "MAJOR.MINOR.PATCH" from BOOST_VERSION
};

// This build. `rocksdb_version` comes from eventstore (tl::rocksdb_version(): only eventstore
// sees RocksDB's headers), so this library stays below it.
BuildInfo build_info(std::string rocksdb_version);

// What `PROGRAM --version` prints: "PROGRAM VERSION" then one "name: value" line each for the
// commit, build type, RocksDB and Boost, ending in a newline.
std::string version_text(std::string_view program, const BuildInfo& info);

namespace build_values {  // the generated file (build_info_values.cpp.in)
std::string_view version() noexcept;
std::string_view commit() noexcept;
std::string_view build_type() noexcept;
}  // namespace build_values

}  // namespace tl
