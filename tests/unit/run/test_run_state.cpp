// Pins down the run state machine: exactly the legal transitions are allowed, names round-trip.
#include "waferscan/run_state.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace ws {
namespace {

constexpr RunState kAll[] = {RunState::idle,     RunState::starting,   RunState::running,
                             RunState::stopping, RunState::completed,  RunState::canceled,
                             RunState::failed,   RunState::interrupted};

TEST(RunState, ExactlyTheDesignedTransitionsAreLegal) {
  using S = RunState;
  const std::set<std::pair<S, S>> legal = {
      {S::idle, S::starting},        {S::starting, S::running},     {S::starting, S::stopping},
      {S::running, S::stopping},     {S::stopping, S::completed},   {S::stopping, S::canceled},
      {S::stopping, S::failed},      {S::starting, S::interrupted}, {S::running, S::interrupted},
      {S::stopping, S::interrupted}, {S::canceled, S::starting},    {S::interrupted, S::starting},
  };
  int checked = 0;
  for (auto from : kAll) {
    for (auto to : kAll) {
      EXPECT_EQ(is_legal_transition(from, to), legal.count({from, to}) == 1)
          << to_string(from) << " -> " << to_string(to);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 64);
}

TEST(RunState, TerminalStatesHaveNoWayOutButResume) {
  for (auto s : kAll) {
    if (!is_terminal(s)) continue;
    for (auto to : kAll) {
      // Only a canceled or interrupted run may start again, and only through Starting (resume).
      const bool resume =
          to == RunState::starting && (s == RunState::canceled || s == RunState::interrupted);
      EXPECT_EQ(is_legal_transition(s, to), resume) << to_string(s) << " -> " << to_string(to);
    }
  }
  EXPECT_TRUE(is_terminal(RunState::canceled));
  EXPECT_FALSE(is_terminal(RunState::stopping));
}

TEST(RunState, NamesRoundTrip) {
  for (auto s : kAll) EXPECT_EQ(run_state_from_string(to_string(s)), s);
  EXPECT_EQ(to_string(RunState::canceled), "Canceled");
  EXPECT_FALSE(run_state_from_string("canceled"));
}

}  // namespace
}  // namespace ws
