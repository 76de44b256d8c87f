// Issue 12, case 10: key files readable by other users stop the start (as ssh refuses such a
// private key), secrets under 16 bytes are refused from every source, and everything under the
// data directory is private to the server's user (files 0600, folders 0700).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_server.hpp"

namespace fs = std::filesystem;

namespace {

class FaultKeyFiles : public e2e::ServerTest {
 protected:
  // Starting must fail; returns what the server said.
  std::string failed_start(const e2e::StartOptions& options = {}) {
    try {
      server.start(options);
    } catch (const std::exception& e) {
      return e.what();
    }
    server.stop();
    return "(the server started)";
  }
};

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

void write_file(const std::string& path, const std::string& text, fs::perms perms) {
  std::ofstream(path) << text << "\n";
  fs::permissions(path, perms, fs::perm_options::replace);
}

TEST_F(FaultKeyFiles, AKeyFileOthersCanReadStopsTheStartNamingItAndChmod) {
  ASSERT_EQ(server.stop(), 0);
  for (const char* name : {"master.key", "signing.key"}) {
    const std::string file = server.data_dir() + "/" + name;
    fs::permissions(file,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::replace);
    const std::string said = failed_start();
    EXPECT_NE(said.find(file + " is accessible by other users (mode 0644)"), std::string::npos) << said;
    EXPECT_NE(said.find("chmod 600 " + file), std::string::npos) << said;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  }
  // A secret file given by option, group-readable.
  const std::string secret = server.root_dir() + "/introspection.secret";
  write_file(secret, "a-long-enough-introspection-secret", fs::perms::owner_read | fs::perms::group_read);
  const std::string said = failed_start({.extra_args = {"--introspection-secret-file", secret},
                                         .prefix = {"env", "-u", "TOKENLEDGER_INTROSPECTION_SECRET"}});
  EXPECT_NE(said.find(secret + " is accessible by other users (mode 0440)"), std::string::npos) << said;
  fs::permissions(secret, fs::perms::owner_read, fs::perm_options::replace);
  server.start({.extra_args = {"--introspection-secret-file", secret},
                .prefix = {"env", "-u", "TOKENLEDGER_INTROSPECTION_SECRET"}});
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

TEST_F(FaultKeyFiles, SecretsUnderSixteenBytesAreRefusedFromEverySource) {
  ASSERT_EQ(server.stop(), 0);
  std::string said = failed_start({.prefix = {"env", "TOKENLEDGER_INTROSPECTION_SECRET=x"}});
  EXPECT_NE(said.find("TOKENLEDGER_INTROSPECTION_SECRET holds 1 bytes; a secret needs at least 16"), std::string::npos)
      << said;
  const std::string secret = server.root_dir() + "/short.secret";
  write_file(secret, "fifteen-bytes!!", fs::perms::owner_read | fs::perms::owner_write);
  said = failed_start({.extra_args = {"--introspection-secret-file", secret},
                       .prefix = {"env", "-u", "TOKENLEDGER_INTROSPECTION_SECRET"}});
  EXPECT_NE(said.find(secret + " holds 15 bytes"), std::string::npos) << said;
  server.start({.prefix = {"env", "TOKENLEDGER_INTROSPECTION_SECRET=sixteen-bytes-ok"}});
  EXPECT_EQ(server.client().get("/readyz").status, 200);
}

TEST_F(FaultKeyFiles, EveryFileUnderTheDataDirectoryIsPrivate) {
  e2e::HttpClient alice = e2e::login(server, "alice");
  for (int i = 0; i < 3; ++i) e2e::create_token(alice, "t" + std::to_string(i));
  ASSERT_EQ(server.stop(), 0);
  auto check_all = [&](const std::string& when) {
    EXPECT_EQ(mode_of(server.data_dir()), 0700u) << when;
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
      if (entry.is_symlink()) continue;
      const unsigned want = entry.is_directory() ? 0700u : 0600u;
      EXPECT_EQ(mode_of(entry.path()), want) << when << ": " << entry.path();
      files += entry.is_regular_file() ? 1 : 0;
    }
    EXPECT_GT(files, 5u) << "RocksDB's files are among them";
  };
  check_all("after a first run");
  // A directory made by an older version or copied with a loose umask is made private at start.
  const fs::path db = fs::path(server.data_dir()) / "db";
  fs::permissions(db,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec,
                  fs::perm_options::replace);
  for (const auto& entry : fs::directory_iterator(db)) {
    if (entry.is_regular_file()) fs::permissions(entry.path(), fs::perms::others_read, fs::perm_options::add);
  }
  server.start();
  ASSERT_EQ(server.stop(), 0);
  check_all("after a start on loosened files");
  EXPECT_NE(server.log().find("were readable by other users; made them 0600/0700"), std::string::npos);
}

}  // namespace
