// The one retry rule (service/command.hpp), driven as the server drives it: append by append.
#include "service/command.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

Error conflict() { return Error::version_conflict("The stream s is at version 2, not 1."); }
Result<AppendResult> durable() { return AppendResult{1, 1, 1, {}}; }

// A one-append command counting its decisions; its result: the number of decisions.
Command<int> counting(int& decisions, bool conflict_final = false) {
  auto decide = [&decisions, conflict_final]() -> Result<Plan<int>> {
    ++decisions;
    return Plan<int>{.append = AppendRequest{.stream = "s", .expected_version = 1},
                     .then = [&decisions] { return done<int>(decisions); },
                     .conflict_final = conflict_final};
  };
  return {std::move(decide), "busy"};
}

TEST(CommandRunTest, AConflictDecidesAgainUpTo16TimesThenSaysSo) {
  int decisions = 0;
  CommandRun<int> run(counting(decisions));
  int appends = 0;
  while (auto request = run.next()) {
    EXPECT_EQ(request->stream, "s");
    ++appends;
    run.appended(conflict());
  }
  EXPECT_EQ(appends, kCommandAttempts);
  EXPECT_EQ(decisions, kCommandAttempts);
  auto outcome = std::move(run).outcome();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ErrorCode::version_conflict);
  EXPECT_EQ(outcome.error().message, "busy");
}

TEST(CommandRunTest, TheLastAllowedAttemptStillSucceeds) {
  int decisions = 0;
  CommandRun<int> run(counting(decisions));
  while (run.next()) run.appended(decisions < kCommandAttempts ? conflict() : durable());
  auto outcome = std::move(run).outcome();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, kCommandAttempts);
}

TEST(CommandRunTest, AFinalConflictEndsAtOnceWithTheStoresError) {
  int decisions = 0;
  CommandRun<int> as_is(counting(decisions, true));
  ASSERT_TRUE(as_is.next().has_value());
  as_is.appended(conflict());
  EXPECT_FALSE(as_is.next().has_value());
  EXPECT_EQ(std::move(as_is).outcome().error().message, conflict().message);
  EXPECT_EQ(decisions, 1);
}

TEST(CommandRunTest, OtherAppendErrorsAndRefusedDecisionsEndTheCommand) {
  int decisions = 0;
  CommandRun<int> run(counting(decisions));
  ASSERT_TRUE(run.next().has_value());
  run.appended(Error::unavailable("full"));
  EXPECT_FALSE(run.next().has_value());
  EXPECT_EQ(std::move(run).outcome().error().code, ErrorCode::unavailable);
  EXPECT_EQ(decisions, 1);

  CommandRun<int> refused(failed_command<int>(Error::forbidden("no")));
  EXPECT_FALSE(refused.next().has_value()) << "a check made before the command: no barrier";
  EXPECT_EQ(std::move(refused).outcome().error().code, ErrorCode::forbidden);
}

// A refusal decided from projections that may be behind another node's appends is decided again
// after a barrier (an append without events), and that second answer stands.
Command<int> refusing(int& decisions, int refusals) {
  auto decide = [&decisions, refusals]() -> Result<Plan<int>> {
    if (++decisions <= refusals) return Error::not_found("No such token.");
    return Plan<int>{.append = AppendRequest{.stream = "s"}, .then = [&decisions] { return done<int>(decisions); }};
  };
  return {std::move(decide), "busy"};
}

TEST(CommandRunTest, ARefusalIsDecidedAgainAfterABarrierWhoseAnswerStands) {
  int decisions = 0;
  CommandRun<int> caught_up(refusing(decisions, 1));
  auto barrier = caught_up.next();
  ASSERT_TRUE(barrier.has_value());
  EXPECT_TRUE(barrier->events.empty());
  EXPECT_TRUE(barrier->stream.empty());
  caught_up.appended(AppendResult{});
  ASSERT_TRUE(caught_up.next().has_value()) << "the second decision found the token";
  caught_up.appended(durable());
  EXPECT_FALSE(caught_up.next().has_value());
  EXPECT_EQ(std::move(caught_up).outcome().value(), 2);

  decisions = 0;
  CommandRun<int> still(refusing(decisions, 5));
  ASSERT_TRUE(still.next().has_value());
  still.appended(AppendResult{});
  EXPECT_FALSE(still.next().has_value()) << "one barrier per run";
  EXPECT_EQ(std::move(still).outcome().error().code, ErrorCode::not_found);
  EXPECT_EQ(decisions, 2);

  decisions = 0;
  CommandRun<int> unreachable(refusing(decisions, 5));
  ASSERT_TRUE(unreachable.next().has_value());
  unreachable.appended(Error::unavailable("PostgreSQL cannot be reached"));
  EXPECT_FALSE(unreachable.next().has_value());
  EXPECT_EQ(std::move(unreachable).outcome().error().code, ErrorCode::unavailable) << "cannot decide: say so";
  EXPECT_EQ(decisions, 1);
}

TEST(CommandRunTest, EachStepHasItsOwnAttemptsAndHoldsAreReleasedBeforeThen) {
  int steps = 0, held = 0;
  std::function<Command<int>()> step = [&]() -> Command<int> {
    auto decide = [&]() -> Result<Plan<int>> {
      ++held;
      std::shared_ptr<void> hold(static_cast<void*>(&held), [&held](void*) { --held; });
      auto then = [&]() -> Next<int> {
        EXPECT_EQ(held, 0) << "the hold is let go before the result is built";
        return ++steps == 3 ? done<int>(steps) : next_step(step());
      };
      return Plan<int>{.append = AppendRequest{.stream = "s"}, .then = then, .hold = hold};
    };
    return {decide, "busy"};
  };
  CommandRun<int> run(step());
  int conflicts_in_step = 0;
  while (run.next()) {
    // Every step conflicts kCommandAttempts - 1 times, then lands.
    if (++conflicts_in_step < kCommandAttempts) {
      run.appended(conflict());
    } else {
      conflicts_in_step = 0;
      run.appended(durable());
    }
  }
  auto outcome = std::move(run).outcome();
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(*outcome, 3);
  EXPECT_EQ(held, 0);
}

TEST(CommandRunTest, APlanWithoutAnAppendGoesOnAtOnceAndAndThenChains) {
  auto nothing = Command<void>{[]() -> Result<Plan<void>> { return Plan<void>{.then = [] { return done(); }}; }, {}};
  CommandRun<std::string> run(
      and_then<std::string>(std::move(nothing), [] { return done<std::string>(std::string("after")); }));
  EXPECT_FALSE(run.next().has_value());
  EXPECT_EQ(std::move(run).outcome().value(), "after");

  bool ran_after = false;
  auto gone = Command<void>{[]() -> Result<Plan<void>> { return Error::not_found("gone"); }, {}};
  CommandRun<int> failing(and_then<int>(std::move(gone), [&] {
    ran_after = true;
    return done<int>(1);
  }));
  ASSERT_TRUE(failing.next().has_value());  // the barrier
  failing.appended(AppendResult{});
  EXPECT_FALSE(failing.next().has_value());
  EXPECT_EQ(std::move(failing).outcome().error().code, ErrorCode::not_found);
  EXPECT_FALSE(ran_after);
}

}  // namespace
}  // namespace tl
