// Expiry warnings by webhook: a scan finds tokens that entered the last 7 days, the last day,
// or expired, and whose notice was not sent yet; each notice is delivered (the transport
// retries) and then recorded as a TokenExpiryNotified event, so it is sent once, survives
// restarts, and is audited. Delivery is at least once: a crash between delivery and record
// sends it again, with the same delivery id for the receiver to drop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "eventstore/event_log.hpp"
#include "projections/read_model.hpp"

namespace tl {

class ExpiryNotifier {
 public:
  // Delivers one JSON body; true once the receiver accepted it (after any retries).
  using Deliver = std::function<bool(const std::string& body, const std::string& delivery_id)>;

  ExpiryNotifier(EventLog& store, ReadModel& model, Deliver deliver, std::chrono::milliseconds scan_every)
      : store_(store), model_(model), deliver_(std::move(deliver)), scan_every_(scan_every) {}
  ~ExpiryNotifier() { stop(); }

  void start();
  void stop();
  // One scan at `now`: returns how many notices were delivered.
  std::size_t scan(Timestamp now);

  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  EventLog& store_;
  ReadModel& model_;
  Deliver deliver_;
  std::chrono::milliseconds scan_every_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tl
