#include "tools/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace tl::admin {

using Clock = std::chrono::steady_clock;

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

Progress::Progress(std::string label, std::uint64_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

std::string Progress::render(std::uint64_t done, const std::string& phase) const {
  const double seconds = elapsed_seconds();
  const auto rate = seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(done) / seconds) : 0;
  std::string text = label_;
  if (!phase.empty()) text += " (" + phase + ")";
  if (total_ > 0) {
    constexpr int kBar = 24;
    const double part = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(part * kBar);
    text += fmt::format(" [{}{}] {:3.0f}%  {}/{}", std::string(static_cast<std::size_t>(filled), '#'),
                        std::string(static_cast<std::size_t>(kBar - filled), '.'), part * 100, with_commas(done),
                        with_commas(total_));
  } else {
    text += "  " + with_commas(done);
  }
  return text + fmt::format(" events  {} events/s", with_commas(rate));
}

void Progress::update(std::uint64_t done, const std::string& phase) {
  const auto now = Clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);
  if (now - last_draw_ < every) return;
  last_draw_ = now;
  const std::string text = render(done, phase);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_ && tty_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

}  // namespace tl::admin
