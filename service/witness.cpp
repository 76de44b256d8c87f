#include "service/witness.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tl {

Result<std::vector<SignedCheckpoint>> read_witness_file(const std::string& path, bool missing_ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (missing_ok && errno == ENOENT) return std::vector<SignedCheckpoint>{};
    return Error::invalid_field("cannot read the witness file " + path + ": " + std::strerror(errno));
  }
  std::vector<SignedCheckpoint> out;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto checkpoint = parse_checkpoint(line);
    // A line cut by a crash in the middle of an append can only be the last one.
    if (!checkpoint) {
      if (in.peek() == std::char_traits<char>::eof()) {
        spdlog::warn("witness file {}: line {} is incomplete and ignored", path, line_no);
        break;
      }
      return Error::invalid_field("the witness file " + path + ", line " + std::to_string(line_no) +
                                  ", is not a signed checkpoint: " + checkpoint.error().message);
    }
    out.push_back(std::move(checkpoint).value());
  }
  return out;
}

Witnesses::Witnesses(std::string file, std::function<bool(const std::string&)> post)
    : file_(std::move(file)), post_(std::move(post)) {}

bool Witnesses::append_to_file(const std::string& line, std::string& error) {
  const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "witness file " + file_ + ": " + std::strerror(errno);
    return false;
  }
  const std::string out = line + "\n";
  const bool ok = ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()) && ::fsync(fd) == 0;
  if (!ok) error = "witness file " + file_ + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

void Witnesses::deliver_pending() {
  for (;;) {
    Pending p;
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty()) break;
      p = pending_.front();
    }
    std::string error;
    std::uint64_t delivered = 0;
    if (p.to_file && append_to_file(p.line, error)) p.to_file = false, ++delivered;
    if (p.to_url) {
      if (post_(p.line)) {
        p.to_url = false, ++delivered;
      } else {
        error = "witness URL: delivery failed";
      }
    }
    std::lock_guard lock(mutex_);
    status_.delivered += delivered;
    if (p.to_file || p.to_url) {
      pending_.front() = p;
      ++status_.failures;
      status_.last_error = error;
      spdlog::warn("a signed checkpoint is not yet witnessed ({}); retried at the next checkpoint", error);
      break;  // in order: a witness never sees a newer checkpoint before an older one
    }
    pending_.pop_front();
    status_.last_error.clear();
  }
  std::lock_guard lock(mutex_);
  status_.pending = pending_.size();
}

void Witnesses::witness(const SignedCheckpoint& checkpoint) {
  if (!configured()) return;
  std::lock_guard delivery(delivery_mutex_);
  {
    std::lock_guard lock(mutex_);
    pending_.push_back({checkpoint.raw, !file_.empty(), static_cast<bool>(post_)});
  }
  deliver_pending();
}

void Witnesses::retry() {
  if (!configured()) return;
  std::lock_guard delivery(delivery_mutex_);
  deliver_pending();
}

WitnessStatus Witnesses::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace tl
