#include "service/integrity_guard.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/time_format.hpp"
#include "eventstore/tree_heads.hpp"

namespace tl {

IntegrityGuard::IntegrityGuard(EventLog& store, CheckpointSigner& signer, Witnesses& witnesses, Options options)
    : store_(store), signer_(signer), witnesses_(witnesses), options_(std::move(options)) {}

IntegrityGuard::~IntegrityGuard() { stop(); }

void IntegrityGuard::report_damage(const IntegrityReport& report) {
  {
    std::lock_guard lock(mutex_);
    if (damage_) return;
    damage_ = Damage{report.first_bad_seq, report.kind, report.problem};
  }
  const std::string reason = "the integrity check found damage at seq " + std::to_string(report.first_bad_seq) + " (" +
                             report.kind + ": " + report.problem + ")";
  spdlog::error("{}; writes are refused from now on. Run `tokenledger-admin verify --data DIR` for a full report",
                reason);
  store_.refuse_writes(reason);
}

std::optional<Damage> IntegrityGuard::damage() const {
  std::lock_guard lock(mutex_);
  return damage_;
}

Result<SignedCheckpoint> IntegrityGuard::sign_checkpoint() {
  if (!store_.runs_singletons()) {
    return Error::unavailable(
        "Another tokenledger node signs this log's checkpoints (the one holding the PostgreSQL advisory lock); ask "
        "that node, or this one once it has taken over.");
  }
  if (auto d = damage()) {
    return Error::unavailable("No checkpoint is signed over a damaged log (seq " + std::to_string(d->seq) + ", " +
                              d->kind + ").");
  }
  if (!vouched()) {
    return Error::unavailable(
        "No checkpoint is signed yet: the first full check of the log in this run (the background scrub) has not "
        "finished; it signs one as soon as it passes. Try again shortly.");
  }
  const auto newest_before = list_checkpoints(store_);
  auto signed_head = signer_.sign_head(store_);
  if (!signed_head) return signed_head;
  if (merkle_ != nullptr) {
    // The tree head of the same seq, signed with the same key (an existing one is kept as it is).
    auto root = merkle_->root(signed_head->seq);
    auto tree_head = root ? sign_tree_head(store_, signer_, origin_, signed_head->seq, *root)
                          : Result<TreeHead>(std::move(root).error());
    if (!tree_head) spdlog::warn("tree head of seq {} not signed: {}", signed_head->seq, tree_head.error().message);
  }
  const bool fresh = !newest_before || newest_before->empty() || newest_before->back().seq != signed_head->seq;
  if (fresh) {
    witnesses_.witness(*signed_head);
  } else {
    witnesses_.retry();
  }
  return signed_head;
}

std::optional<double> IntegrityGuard::checkpoint_age_seconds() const {
  auto all = list_checkpoints(store_);
  if (!all || all->empty()) return std::nullopt;
  auto at = parse_rfc3339(all->back().at);
  if (!at) return std::nullopt;
  return std::chrono::duration<double>(now_ms() - *at).count();
}

IntegrityOptions IntegrityGuard::check_options() const {
  IntegrityOptions check;
  check.trusted_public_key =
      options_.trusted_public_key.empty() ? signer_.public_key_hex() : options_.trusted_public_key;
  if (!options_.witness_file.empty()) {
    if (auto witnessed = read_witness_file(options_.witness_file, true)) {
      check.witnessed = std::move(*witnessed);
    } else {
      spdlog::error("{}", witnessed.error().message);
    }
  }
  return check;
}

void IntegrityGuard::start_scrub() {
  if (options_.scrub_interval.count() <= 0) return;
  thread_ = std::thread([this] { scrub_loop(); });
}

void IntegrityGuard::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ScrubStatus IntegrityGuard::scrub_status() const {
  std::lock_guard lock(mutex_);
  return scrub_;
}

void IntegrityGuard::set_start_base(Head head) {
  std::lock_guard lock(mutex_);
  checked_to_ = std::move(head);
}

void IntegrityGuard::record_full_check(FullCheck check) {
  // A walk answered meanwhile may have checked further than this check reached: keep the further.
  if (check.report.ok && check.report.chain.head.seq >= checked_to_.seq) checked_to_ = check.report.chain.head;
  last_full_ = std::move(check);
}

std::optional<FullCheck> IntegrityGuard::last_full_check() const {
  std::lock_guard lock(mutex_);
  return last_full_;
}

std::optional<IntegrityReport> IntegrityGuard::full_check_now() {
  if (full_running_.exchange(true)) return std::nullopt;
  struct Release {
    std::atomic<bool>& running;
    ~Release() { running.store(false); }
  } release{full_running_};
  const auto started = std::chrono::steady_clock::now();
  IntegrityReport report = check_integrity(store_, check_options());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard lock(mutex_);
    record_full_check(FullCheck{report, now_ms(), "request", seconds});
  }
  // Damage found on request is damage as the scrub's is: no write and no signature over it.
  if (!report.ok && !report.stopped) report_damage(report);
  return report;
}

std::uint64_t IntegrityGuard::full_check_retry_seconds() const {
  std::lock_guard lock(mutex_);
  const double last = last_full_ ? last_full_->seconds : 1.0;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(last + 0.999));
}

VerifyAnswer IntegrityGuard::verify_since_last_check() {
  VerifyAnswer answer;
  std::optional<FullCheck> full;
  Head base;
  {
    std::lock_guard lock(mutex_);
    full = last_full_;
    base = checked_to_;
  }
  if (full) {
    answer.scrub = {.completed = true,
                    .completed_at = full->completed_at,
                    .head_seq = full->report.chain.head.seq,
                    .ok = full->report.ok,
                    .source = full->source};
  }
  if (full && !full->report.ok) {
    answer.report = full->report;
    return answer;
  }
  if (auto d = damage(); d && !full) {
    answer.report.chain.head = store_.head();
    answer.report.ok = false;
    answer.report.first_bad_seq = d->seq;
    answer.report.kind = d->kind;
    answer.report.problem = d->problem;
    return answer;
  }
  answer.report = check_since(store_, check_options(), base);
  answer.walked = TailWalk{base.seq + 1, answer.report.chain.events};
  answer.report.chain.events += base.seq;
  answer.indexes_checked = full.has_value();
  if (answer.report.ok) {
    std::lock_guard lock(mutex_);
    if (answer.report.chain.head.seq > checked_to_.seq) checked_to_ = answer.report.chain.head;
  } else {
    report_damage(answer.report);
  }
  return answer;
}

void IntegrityGuard::scrub_loop() {
  for (;;) {
    // Where processes share the log, the one that runs the singular jobs scrubs; another looks
    // again every 5 s, so that it scrubs soon after it takes over.
    const bool mine = store_.runs_singletons();
    if (mine) scrub_once();
    std::unique_lock lock(mutex_);
    const auto wait = mine ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.scrub_interval)
                           : std::chrono::milliseconds(5000);
    if (wake_.wait_for(lock, wait, [&] { return stopping_; })) return;
  }
}

void IntegrityGuard::scrub_once() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    scrub_.running = true;
  }
  const auto started = std::chrono::steady_clock::now();
  IntegrityOptions check = check_options();
  // Low priority: after each step of 1024 records, sleep so that the walk takes about
  // `scrub_duty` of one core; stop promptly at shutdown.
  auto step_started = std::chrono::steady_clock::now();
  check.pause = [&] {
    const auto worked = std::chrono::steady_clock::now() - step_started;
    const auto rest = std::chrono::duration_cast<std::chrono::microseconds>(worked * (1.0 / options_.scrub_duty - 1.0));
    std::unique_lock lock(mutex_);
    const bool stop = wake_.wait_for(lock, rest, [&] { return stopping_; });
    step_started = std::chrono::steady_clock::now();
    return !stop;
  };
  const IntegrityReport report = check_integrity(store_, check);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard lock(mutex_);
    scrub_.running = false;
    if (report.stopped) return;
    ++scrub_.runs;
    record_full_check(FullCheck{report, now_ms(), "scrub", seconds});
    scrub_.last_ok = report.ok;
    scrub_.last_events = report.chain.events;
    scrub_.last_seconds = seconds;
    scrub_.last_finished_unix = std::chrono::duration_cast<std::chrono::seconds>(now_ms().time_since_epoch()).count();
  }
  if (report.ok) {
    spdlog::info("scrub passed: {} records, {} signed and {} witnessed checkpoints, indexes exact, in {:.1f} s",
                 report.chain.events, report.checkpoints, report.witnessed, seconds);
    vouch();
    if (options_.read_only || store_.head().seq == 0) return;
    if (auto signed_head = sign_checkpoint(); !signed_head) {
      spdlog::warn("checkpoint not signed after the scrub: {}", signed_head.error().message);
    }
  } else {
    report_damage(report);
  }
}

}  // namespace tl
