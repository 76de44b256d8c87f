// Graceful shutdown under load: SIGTERM while several clients write; the server exits 0 and
// every change it acknowledged is there after the restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <random>

#include "fault_workload.hpp"

namespace {

using namespace std::chrono_literals;

TEST(FaultShutdown, SigtermUnderConcurrentWritesLosesNothingAcknowledged) {
  constexpr int kCycles = 6;
  constexpr int kUsers = 6;
  const auto started = std::chrono::steady_clock::now();
  std::mt19937 rng(777);
  e2e::TestServer server;
  server.start();
  faults::Workload workload(server, kUsers, 777);
  std::int64_t events = 0;
  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    const std::chrono::milliseconds after(std::uniform_int_distribution<int>(300, 1200)(rng));
    const auto status = workload.interrupt(server, SIGTERM, after, 30s);
    ASSERT_EQ(status, std::optional<int>(0)) << "cycle " << cycle << "\n" << server.log();

    ASSERT_NO_THROW(server.start()) << "cycle " << cycle << "\n" << server.log();
    ASSERT_EQ(workload.check(server, events), 0) << "cycle " << cycle << ": " << workload.summary();
  }
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.log().find("stopped cleanly"), std::string::npos);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::printf("[fault] shutdown: %d SIGTERM cycles, %lld events in the log, %s; %lld ms\n", kCycles,
              static_cast<long long>(events), workload.summary().c_str(), static_cast<long long>(took.count()));
}

}  // namespace
