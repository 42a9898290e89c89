// Sites and their outcomes.
#pragma once

#include "waferscan/defect.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws {

/// One site of the recipe: a die to image.
struct SiteSpec {
  int index = 0;  ///< 0-based order of visit
  std::string name;
  int die_i = 0;
  int die_j = 0;
  double x_um = 0.0;  ///< stage position of the die centre
  double y_um = 0.0;
};

/// Every site of a run ends as exactly one of these.
enum class SiteStatus : std::uint8_t {
  not_started,  ///< never acquired
  done,         ///< inspected; all its defects stored
  incomplete,   ///< acquired, then abandoned by an abort
  error,        ///< a bad frame or a failed acquisition; `reason` says which
  unreliable,   ///< acquired, but not registered well enough to compare (wrong board, a fit
                ///< residual over its limit, a blank frame, sizes that differ): never clean
};
std::string_view to_string(SiteStatus s) noexcept;
std::optional<SiteStatus> site_status_from_string(std::string_view name) noexcept;

/// What the publish node stores for one site.
struct SiteResult {
  SiteSpec site;
  SiteStatus status = SiteStatus::not_started;
  std::string reason;  ///< empty unless error/incomplete/unreliable
  std::vector<Defect> defects;
  int align_dx = 0;
  int align_dy = 0;
  double align_confidence = 0;
};

}  // namespace ws
