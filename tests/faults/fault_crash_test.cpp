// Crash consistency: the server is SIGKILLed at random moments under concurrent creates, edits,
// reveals and deletes, restarted on the same data directory, and every change it acknowledged
// must be there, unanswered ones whole or absent, and the chain must verify.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <random>

#include "fault_workload.hpp"

namespace {

using namespace std::chrono_literals;

TEST(FaultCrash, KillNineUnderConcurrentWritesLosesNothingAcknowledged) {
  constexpr int kCycles = 30;
  constexpr int kUsers = 4;
  const auto started = std::chrono::steady_clock::now();
  std::mt19937 rng(20260601);
  e2e::TestServer server;
  server.start();
  faults::Workload workload(server, kUsers, 20260601);
  std::int64_t events = 0;
  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    // Kill after a random 50-900 ms of writing: mid-batch, mid-fsync, mid-response.
    const std::chrono::milliseconds after(std::uniform_int_distribution<int>(50, 900)(rng));
    const auto status = workload.interrupt(server, SIGKILL, after, 10s);
    ASSERT_EQ(status, std::optional<int>(128 + SIGKILL)) << "cycle " << cycle;

    ASSERT_NO_THROW(server.start()) << "cycle " << cycle << "\n" << server.log();
    const int problems = workload.check(server, events);
    ASSERT_EQ(problems, 0) << "cycle " << cycle << ": " << workload.summary();
    ASSERT_LT(std::chrono::steady_clock::now() - started, 170s) << "too slow, stopped at cycle " << cycle;
  }
  EXPECT_EQ(server.stop(), 0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  const auto& c = workload.counts();
  EXPECT_GT(c.creates + c.edits + c.reveals + c.deletes, kCycles * 10) << "the workload did too little";
  std::printf("[fault] crash: %d SIGKILL cycles, %lld events in the log, %s; %lld ms\n", kCycles,
              static_cast<long long>(events), workload.summary().c_str(), static_cast<long long>(took.count()));
}

}  // namespace
