// Request counters and latency histograms by route, rendered with the store's figures in the
// Prometheus text format at GET /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace tl {

class EventStore;
class ReadModel;

class RequestMetrics {
 public:
  void record(std::string_view method, std::string_view route, unsigned status, double seconds);
  std::string render(const EventStore& store, const ReadModel& model) const;

 private:
  static constexpr std::array<double, 11> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0};
  struct Latency {
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};
    double sum = 0;
    std::uint64_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> counts_;
  std::map<std::string, Latency> latency_;
};

}  // namespace tl
