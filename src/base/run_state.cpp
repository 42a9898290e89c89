// RunState's stable names (as written to the store, events and JSON) and its transitions.
#include "waferscan/run_state.hpp"

#include "base/name_table.hpp"

namespace ws {

namespace {
constexpr detail::NameTable<RunState, 8> kRunStates{{
    {RunState::idle, "Idle"},
    {RunState::starting, "Starting"},
    {RunState::running, "Running"},
    {RunState::stopping, "Stopping"},
    {RunState::completed, "Completed"},
    {RunState::canceled, "Canceled"},
    {RunState::failed, "Failed"},
    {RunState::interrupted, "Interrupted"},
}};
}  // namespace

std::string_view to_string(RunState s) noexcept {
  return detail::name_of(kRunStates, s);
}
std::optional<RunState> run_state_from_string(std::string_view name) noexcept {
  return detail::lookup(kRunStates, name);
}

bool is_terminal(RunState s) noexcept {
  return s == RunState::completed || s == RunState::canceled || s == RunState::failed ||
         s == RunState::interrupted;
}

bool is_legal_transition(RunState from, RunState to) noexcept {
  using S = RunState;
  switch (from) {
    case S::idle:
      return to == S::starting;
    case S::starting:
      return to == S::running || to == S::stopping || to == S::interrupted;
    case S::running:
      return to == S::stopping || to == S::interrupted;
    case S::stopping:
      return to == S::completed || to == S::canceled || to == S::failed || to == S::interrupted;
    case S::canceled:
    case S::interrupted:
      return to == S::starting;  // `waferscan resume` continues the run from its sites not done
    case S::completed:
    case S::failed:
      return false;
  }
  return false;
}

}  // namespace ws
