#include "tools/raw_log.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/raw_events.hpp"
#include "tools/chain_check.hpp"

namespace tl::admin {

std::optional<VerifyReport> verify_raw(const std::string& db_dir) {
  VerifyReport report;
  auto fail = [&](std::uint64_t seq, std::string problem) {
    report.ok = false, report.first_bad_seq = seq, report.problem = std::move(problem);
  };
  auto events = RawEvents::open(db_dir, /*writable=*/false);
  if (!events) return std::nullopt;
  ChainChecker checker;
  std::uint64_t expected = 1;
  auto scanned = (*events)->scan([&](std::uint64_t seq, std::string_view bytes) {
    if (seq != expected) {
      fail(expected, "record " + std::to_string(expected) + " is missing");
      return false;
    }
    if (!checker.add(bytes)) {
      fail(expected, checker.report().problem);
      return false;
    }
    if (checker.report().last_seq != expected) {
      fail(expected, "the record names another seq");
      return false;
    }
    report.events = expected;
    report.head = {expected, checker.report().last_hash};
    ++expected;
    return true;
  });
  if (!scanned && report.ok) fail(expected, scanned.error().message);
  return report;
}

}  // namespace tl::admin
