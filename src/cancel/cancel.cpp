// The stable names of cancel.hpp's enums, as written to the store, events and JSON.
#include "waferscan/cancel.hpp"

#include "base/name_table.hpp"

namespace ws {

namespace {
constexpr detail::NameTable<StopReason, 6> kStopReasons{{
    {StopReason::none, "none"},
    {StopReason::operator_request, "operator"},
    {StopReason::shutdown, "shutdown"},
    {StopReason::emergency_stop, "emergency_stop"},
    {StopReason::timeout, "timeout"},
    {StopReason::fault, "fault"},
}};

constexpr detail::NameTable<StopStrength, 3> kStrengths{{
    {StopStrength::none, "none"},
    {StopStrength::stop, "stop"},
    {StopStrength::abort, "abort"},
}};
}  // namespace

std::string_view to_string(StopReason reason) noexcept {
  return detail::name_of(kStopReasons, reason);
}
std::string_view to_string(StopStrength strength) noexcept {
  return detail::name_of(kStrengths, strength);
}
std::optional<StopReason> stop_reason_from_string(std::string_view name) noexcept {
  return detail::lookup(kStopReasons, name);
}

}  // namespace ws
