// One write path. A command decides its events from the current state and returns a plan: the
// append (or none, when there is nothing to record) and what follows once it is durable, which is
// either the command's result or its next step (offboarding revokes one token per append).
// CommandRun executes any command with the one retry rule: on a version conflict, decide again,
// at most kCommandAttempts times per step, unless the plan says a conflict is final (If-Match).
// A refusal is decided twice: the first may come from projections behind the appends of another
// process on the same log (nodes on one PostgreSQL log), so a barrier append (no events; see
// AppendRequest) lets them catch up and the second decision's answer stands. An append needs no
// barrier: its expected version is checked against the log itself.
// The server drives a CommandRun from a coroutine (co_await async_append, no thread waits on the
// fsync); the admin tool and the tests drive it with run_command, which blocks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

// Enough for any realistic contention on one stream; each attempt waits for one batch.
inline constexpr int kCommandAttempts = 16;

template <class T>
struct Command;

// What a step leads to: the command's result, or the step after it.
template <class T>
using Next = std::variant<Result<T>, Command<T>>;

template <class T>
struct Plan {
  std::optional<AppendRequest> append;  // nullopt: nothing to record, `then` runs at once
  // Runs once the append is durable (the projections already hold its events).
  std::function<Next<T>()> then;
  // A version conflict means: decide again (the default), or, when final, the end of the command
  // with the store's error (a check that cannot be made again, such as a password verified).
  bool conflict_final = false;
  // Let go as soon as the append has completed, whatever its outcome (a reserved token slot).
  std::shared_ptr<void> hold;
};

template <class T>
struct Command {
  // Reads the current state and decides; an error ends the command with it, nothing recorded.
  std::function<Result<Plan<T>>()> decide;
  // The version_conflict message once kCommandAttempts decisions of one step met a conflict.
  std::string too_busy;
  // False when the refusal does not come from the projections (failed_command): no barrier.
  bool refusal_may_be_stale = true;
};

template <class T>
Next<T> done(Result<T> result) {
  return Next<T>(std::in_place_index<0>, std::move(result));
}
inline Next<void> done() { return Next<void>(std::in_place_index<0>); }

template <class T>
Next<T> next_step(Command<T> command) {
  return Next<T>(std::in_place_index<1>, std::move(command));
}

// A command that ends with `error` without deciding anything (a check made before the command,
// such as a refused password, failed).
template <class T>
Command<T> failed_command(Error error) {
  return {[error = std::move(error)]() -> Result<Plan<T>> { return error; }, {}, false};
}

// `first`, then, once it succeeded, whatever `after` makes of its result (another step or a
// result of type B). Errors of `first` end the whole command.
template <class B, class A, class F>
Command<B> and_then(Command<A> first, F after) {
  auto decide = [decide = std::move(first.decide), after]() -> Result<Plan<B>> {
    auto plan = decide();
    if (!plan) return std::move(plan).error();
    auto then = [then = std::move(plan->then), after]() -> Next<B> {
      Next<A> next = then();
      if (auto* command = std::get_if<1>(&next)) return next_step(and_then<B>(std::move(*command), after));
      Result<A>& result = std::get<0>(next);
      if (!result) return done<B>(std::move(result).error());
      if constexpr (std::is_void_v<A>) {
        return after();
      } else {
        return after(std::move(result).value());
      }
    };
    return Plan<B>{std::move(plan->append), std::move(then), plan->conflict_final, std::move(plan->hold)};
  };
  return Command<B>{std::move(decide), std::move(first.too_busy), first.refusal_may_be_stale};
}

// Runs a command step by step: next() decides and gives the append to make (nullopt once the
// outcome is known), appended() takes that append's result. Not thread-safe; one driver.
template <class T>
class CommandRun {
 public:
  explicit CommandRun(Command<T> command) : step_(std::move(command)) {}

  std::optional<AppendRequest> next() {
    while (!outcome_) {
      if (attempts_ == kCommandAttempts) {
        outcome_.emplace(Error::version_conflict(step_.too_busy));
        break;
      }
      ++attempts_;
      auto plan = step_.decide();
      if (!plan && !synced_ && step_.refusal_may_be_stale) {
        synced_ = true;
        --attempts_;
        return AppendRequest{};  // the barrier; appended() takes its outcome
      }
      if (!plan) {
        outcome_.emplace(std::move(plan).error());
        break;
      }
      if (plan->append) {
        AppendRequest request = std::move(*plan->append);
        plan_.emplace(std::move(plan).value());
        return request;
      }
      advance(plan->then());
    }
    return std::nullopt;
  }

  void appended(Result<AppendResult> result) {
    if (!plan_) {  // the barrier: decide again, unless the log could not be caught up with
      if (!result) outcome_.emplace(std::move(result).error());
      return;
    }
    Plan<T> plan = std::move(*plan_);
    plan_.reset();
    plan.hold.reset();
    if (result) {
      last_append_ = *result;
      return advance(plan.then());
    }
    if (result.error().code != ErrorCode::version_conflict) {
      outcome_.emplace(std::move(result).error());
    } else if (plan.conflict_final) {
      outcome_.emplace(std::move(result).error());
    }  // else the next next() decides again
  }

  // Once next() gave nullopt.
  Result<T> outcome() && { return std::move(*outcome_); }
  // The last append of the command that landed (nullopt when none did): where its events are,
  // for a receipt (issue 18).
  const std::optional<AppendResult>& last_append() const { return last_append_; }

 private:
  void advance(Next<T> next) {
    if (auto* command = std::get_if<1>(&next)) {
      step_ = std::move(*command);
      attempts_ = 0;
    } else {
      outcome_.emplace(std::get<0>(std::move(next)));
    }
  }

  Command<T> step_;
  int attempts_ = 0;
  bool synced_ = false;          // the barrier was appended (once per run)
  std::optional<Plan<T>> plan_;  // the plan whose append is under way; none for the barrier
  std::optional<Result<T>> outcome_;
  std::optional<AppendResult> last_append_;
};

// Runs `command` to its end, blocking on each append (the admin tool, tests, start-up).
template <class T>
Result<T> run_command(EventLog& store, Command<T> command) {
  CommandRun<T> run(std::move(command));
  while (auto request = run.next()) run.appended(store.append(std::move(*request)));
  return std::move(run).outcome();
}

}  // namespace tl
