// Request counters and latency histograms by route, rendered with the store's figures in the
// Prometheus text format at GET /metrics; and the access log, one line per request.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tl {

class EventLog;
class ReadModel;

// The access log: one line per request (method, route, status, latency, client address,
// request id; never a secret), in the format of the server's other log lines, on stderr.
// Lines are gathered in memory and written a batch at a time by a background thread (every
// 100 ms, or sooner when much is waiting), so a request costs no write(2) of its own. Nothing
// is dropped: past a bound the caller writes itself. Held lines are written at destruction.
class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(std::string_view method, std::string_view route, unsigned status, std::int64_t micros, std::string_view ip,
             std::string_view request_id);
  // Writes every held line now.
  void flush();

 private:
  void run();
  void write_out(const std::string& text);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  std::thread flusher_;  // started with the first line
  bool stopping_ = false;
  std::mutex out_mutex_;  // one batch at a time, in order
};

// Series are labelled by method, route pattern and status, each from a bounded set: methods
// other than the standard ones and requests that matched no route count as "other", so
// memory and the size of /metrics stay bounded whatever clients send.
class RequestMetrics {
 public:
  static constexpr std::string_view kOther = "other";
  static std::string_view method_label(std::string_view method);

  void record(std::string_view method, std::string_view route, unsigned status, double seconds);
  // Counts the request and writes its access-log line.
  void record_request(std::string_view method, std::string_view route, unsigned status, std::int64_t micros,
                      std::string_view ip, std::string_view request_id);
  std::string render(const EventLog& store, const ReadModel& model) const;
  AccessLog& access_log() { return access_log_; }

 private:
  static constexpr std::size_t kMaxSeries = 4096;
  static constexpr std::size_t kLoggedMethodBytes = 32;
  static constexpr std::array<double, 11> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0};
  struct Latency {
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Key {
    std::string method;
    std::string route;
    unsigned status = 0;
  };
  struct KeyView {
    std::string_view method;
    std::string_view route;
    unsigned status = 0;
  };
  // Ordered by (method, route, status); looked up by views, so a request allocates nothing.
  struct KeyLess {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.method, k.route, k.status}; }
    static KeyView view(const KeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const KeyView x = view(a), y = view(b);
      if (x.method != y.method) return x.method < y.method;
      if (x.route != y.route) return x.route < y.route;
      return x.status < y.status;
    }
  };
  mutable std::mutex mutex_;
  std::map<Key, std::uint64_t, KeyLess> counts_;
  std::map<std::string, Latency, std::less<>> latency_;
  AccessLog access_log_;
};

}  // namespace tl
