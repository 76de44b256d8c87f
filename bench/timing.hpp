// Timing shared by the C++ benchmarks and the data-set generator. Rates are set by hand from
// wall-clock time: Google Benchmark's own rate divides by the CPU time of the main thread, which
// means nothing for work done on other threads (the fold decodes on workers, the appender syncs on
// its own thread).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace tl::bench {

using Clock = std::chrono::steady_clock;

// Wall-clock seconds since `t`.
inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds of the whole process (every thread), for figures that must survive a busy machine.
inline double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The timed parts of a benchmark loop: start() and stop(items) around each, then report() sets
// the counters "items_per_second" (items over the wall seconds of the timed parts) and
// "cpu_us_per_event" (CPU microseconds of the whole process, from construction, per item).
class LoopTimer {
 public:
  LoopTimer() : cpu_before_(process_cpu_seconds()) {}

  void start() { started_ = Clock::now(); }
  void stop(std::uint64_t items) {
    seconds_ += seconds_since(started_);
    items_ += items;
  }
  std::uint64_t items() const { return items_; }

  // `State` is benchmark::State (a template, so that this header does not need Google Benchmark).
  template <class State>
  void report(State& state) const {
    state.counters["items_per_second"] = static_cast<double>(items_) / seconds_;
    state.counters["cpu_us_per_event"] = (process_cpu_seconds() - cpu_before_) * 1e6 / static_cast<double>(items_);
  }

 private:
  double cpu_before_;
  Clock::time_point started_{};
  double seconds_ = 0;
  std::uint64_t items_ = 0;
};

}  // namespace tl::bench
