// SiteStatus's stable names, as written to the store, events and JSON.
#include "waferscan/site.hpp"

#include "base/name_table.hpp"

namespace ws {

namespace {
constexpr detail::NameTable<SiteStatus, 5> kSiteStatuses{{
    {SiteStatus::not_started, "not_started"},
    {SiteStatus::done, "done"},
    {SiteStatus::incomplete, "incomplete"},
    {SiteStatus::error, "error"},
    {SiteStatus::unreliable, "unreliable"},
}};
}  // namespace

std::string_view to_string(SiteStatus s) noexcept {
  return detail::name_of(kSiteStatuses, s);
}
std::optional<SiteStatus> site_status_from_string(std::string_view name) noexcept {
  return detail::lookup(kSiteStatuses, name);
}

}  // namespace ws
