// Disk full: the data directory is a small tmpfs (needs mount(2): CI runs as root; skipped
// elsewhere). With the disk filled, writes answer 503 unavailable and append nothing; reads
// and introspection keep working; once the space is freed, writes work again and the chain
// verifies, also after a restart.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace {

namespace fs = std::filesystem;
using e2e::HttpClient;
using e2e::Json;
using e2e::Response;

// Writes `path` until the file system says ENOSPC; returns the bytes written.
std::uint64_t fill_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<char> block(1 << 20, 'x');
  std::uint64_t total = 0;
  for (std::size_t size = block.size(); size > 0; size /= 2) {
    for (int i = 0; i < 100000; ++i) {
      const ssize_t n = ::write(fd, block.data(), size);
      if (n <= 0) break;
      total += static_cast<std::uint64_t>(n);
    }
  }
  ::fsync(fd);
  ::close(fd);
  return total;
}

class FaultDiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(server.data_dir()).parent_path().string();
    mount_point_ = server.data_dir();
    fs::create_directories(mount_point_);
    if (::mount("tokenledger-fault", mount_point_.c_str(), "tmpfs", 0, "size=24m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << mount_point_ << " (" << std::strerror(errno)
                   << "); the disk-full test needs root or CAP_SYS_ADMIN, as in CI";
    }
    mounted_ = true;
  }
  void TearDown() override {
    server.stop();
    if (mounted_ && ::umount2(mount_point_.c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "umount " << mount_point_ << ": " << std::strerror(errno);
    }
  }

  e2e::TestServer server;
  std::string root_, mount_point_;
  bool mounted_ = false;
};

TEST_F(FaultDiskFull, WritesAnswer503AndRecoverWhenSpaceIsFreed) {
  // The server refuses appends below 4 MiB free (of 24), before RocksDB could meet ENOSPC.
  const e2e::StartOptions options{.extra_args = {"--min-free-mb", "4"}};
  server.start(options);
  HttpClient admin = e2e::login(server, "admin");
  e2e::create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = e2e::login(server, "alice");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(e2e::create_token(alice, "before-full-" + std::to_string(i), 30)["id"].str());
  const std::string code = e2e::reveal(alice, ids[0]);
  ASSERT_TRUE(e2e::introspect(server, code).json()["active"].boolean());  // its TokenUsed is logged now
  // The first use is logged asynchronously (TokenUsed); wait for it so the count is settled.
  for (int i = 0; i < 200 && alice.get("/api/v1/audit?type=TokenUsed").json()["events"].size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::int64_t before = e2e::audit_event_count(alice);

  // Fill the disk: a filler file beside the database, inside the tmpfs.
  const std::string filler = root_ + "/data/filler.bin";
  const std::uint64_t filled = fill_disk(filler);
  ASSERT_GT(filled, 0u);

  int refused = 0;
  const std::vector<std::pair<std::string, Response>> writes = {
      {"create", alice.post("/api/v1/tokens", e2e::token_body("while-full", 5))},
      {"edit", alice.patch("/api/v1/tokens/" + ids[1], R"({"description":"edited-while-full"})")},
      {"reveal", alice.post("/api/v1/tokens/" + ids[2] + "/reveal")},
      {"delete", alice.del("/api/v1/tokens/" + ids[3])},
      {"create again", alice.post("/api/v1/tokens", e2e::token_body("while-full-2", 5))},
      {"user", admin.post("/api/v1/users", R"({"username":"dave","password":"a long password","groups":[]})")},
  };
  for (const auto& [what, res] : writes) {
    EXPECT_EQ(res.status, 503) << what << ": " << e2e::describe(res);
    EXPECT_EQ(res.error_code(), "unavailable") << what << ": " << e2e::describe(res);
    refused += res.status == 503;
  }

  // Reads and introspection still work; nothing was appended or changed.
  const Response list = alice.get("/api/v1/tokens");
  ASSERT_EQ(list.status, 200) << e2e::describe(list);
  EXPECT_EQ(list.json()["tokens"].size(), 5u);
  EXPECT_EQ(alice.get("/api/v1/tokens/" + ids[1]).json()["description"].str(), "before-full-1");
  EXPECT_TRUE(e2e::introspect(server, code).json()["active"].boolean());
  EXPECT_EQ(alice.get("/api/v1/audit?limit=10").status, 200);
  EXPECT_EQ(e2e::audit_event_count(alice), before)
      << alice.get("/api/v1/audit?after_seq=" + std::to_string(before)).body;
  EXPECT_TRUE(e2e::login(server, "alice").cookie("tl_session").size() > 0);  // signing in is a read

  // Free the space: the very next write works (the store leaves RocksDB's error state first).
  fs::remove(filler);
  const Response created = alice.post("/api/v1/tokens", e2e::token_body("after-full", 5));
  ASSERT_EQ(created.status, 201) << e2e::describe(created) << "\n" << server.log();
  const std::string after_id = created.json()["id"].str();
  ASSERT_EQ(alice.patch("/api/v1/tokens/" + ids[1], R"({"description":"edited-after-full"})").status, 200);
  ASSERT_EQ(alice.del("/api/v1/tokens/" + ids[3]).status, 204);
  e2e::reveal(alice, ids[2]);
  EXPECT_EQ(e2e::audit_event_count(alice), before + 4);

  // The same after a restart: the chain verifies, the post-recovery writes are there.
  ASSERT_EQ(server.restart(options), 0) << server.log();
  HttpClient alice2 = e2e::login(server, "alice");
  // (+1 at most: the shutdown writes the exact last use of the code, introspected while full.)
  const std::int64_t after_restart = e2e::audit_event_count(alice2);  // throws unless the chain verifies
  EXPECT_GE(after_restart, before + 4);
  EXPECT_LE(after_restart, before + 5);
  EXPECT_EQ(alice2.get("/api/v1/tokens/" + after_id).status, 200);
  EXPECT_EQ(alice2.get("/api/v1/tokens/" + ids[1]).json()["description"].str(), "edited-after-full");
  EXPECT_EQ(alice2.get("/api/v1/tokens/" + ids[3]).status, 404);
  std::printf("[fault] disk full: %llu filler bytes, %d writes refused with 503, %lld events before, %lld after\n",
              static_cast<unsigned long long>(filled), refused, static_cast<long long>(before),
              static_cast<long long>(before + 4));
}

}  // namespace
