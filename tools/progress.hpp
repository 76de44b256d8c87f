// A progress line on stderr for long runs: on a terminal it redraws in place (at most ten
// times a second); otherwise it writes a line every few seconds, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tl::admin {

class Progress {
 public:
  // `total` is the count at 100% (0 when unknown).
  Progress(std::string label, std::uint64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t done, const std::string& phase = {});
  // Ends the line (a terminal's line is cleared). Idempotent.
  void finish();
  double elapsed_seconds() const;

 private:
  std::string render(std::uint64_t done, const std::string& phase) const;

  std::string label_;
  std::uint64_t total_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "12345" -> "12,345".
std::string with_commas(std::uint64_t n);

}  // namespace tl::admin
