// Stable names of the shared enums, as written to the store, events and JSON.
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"
#include "waferscan/run_state.hpp"
#include "waferscan/site.hpp"

#include <array>
#include <utility>

namespace ws {

namespace {
template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<std::pair<Enum, std::string_view>, N>& table,
                           std::string_view name) noexcept {
  for (const auto& [value, text] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) noexcept {
  for (const auto& [v, text] : table) {
    if (v == value) return text;
  }
  return "unknown";
}

constexpr std::array<std::pair<StopReason, std::string_view>, 6> kStopReasons{{
    {StopReason::none, "none"},
    {StopReason::operator_request, "operator"},
    {StopReason::shutdown, "shutdown"},
    {StopReason::emergency_stop, "emergency_stop"},
    {StopReason::timeout, "timeout"},
    {StopReason::fault, "fault"},
}};

constexpr std::array<std::pair<StopStrength, std::string_view>, 3> kStrengths{{
    {StopStrength::none, "none"},
    {StopStrength::stop, "stop"},
    {StopStrength::abort, "abort"},
}};

constexpr std::array<std::pair<RunState, std::string_view>, 8> kRunStates{{
    {RunState::idle, "Idle"},
    {RunState::starting, "Starting"},
    {RunState::running, "Running"},
    {RunState::stopping, "Stopping"},
    {RunState::completed, "Completed"},
    {RunState::canceled, "Canceled"},
    {RunState::failed, "Failed"},
    {RunState::interrupted, "Interrupted"},
}};

constexpr std::array<std::pair<SiteStatus, std::string_view>, 4> kSiteStatuses{{
    {SiteStatus::not_started, "not_started"},
    {SiteStatus::done, "done"},
    {SiteStatus::incomplete, "incomplete"},
    {SiteStatus::error, "error"},
}};
}  // namespace

std::string_view to_string(StopReason reason) noexcept {
  return name_of(kStopReasons, reason);
}
std::string_view to_string(StopStrength strength) noexcept {
  return name_of(kStrengths, strength);
}
std::optional<StopReason> stop_reason_from_string(std::string_view name) noexcept {
  return lookup(kStopReasons, name);
}

std::string_view to_string(RunState s) noexcept {
  return name_of(kRunStates, s);
}
std::optional<RunState> run_state_from_string(std::string_view name) noexcept {
  return lookup(kRunStates, name);
}

std::string_view to_string(SiteStatus s) noexcept {
  return name_of(kSiteStatuses, s);
}
std::optional<SiteStatus> site_status_from_string(std::string_view name) noexcept {
  return lookup(kSiteStatuses, name);
}

std::string_view to_string(Polarity p) noexcept {
  return p == Polarity::bright ? "bright" : "dark";
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
