// Progress of a run, as its journal reports it once per published site.
#pragma once

#include <functional>

namespace ws {

struct Progress {
  int sites_total = 0;
  int sites_published = 0;  ///< sites whose outcome is stored (any status)
  int sites_done = 0;
  int sites_unreliable = 0;  ///< sites not registered well enough to compare (never clean)
  int defects = 0;
  double elapsed_s = 0;
};

/// Called once per published site, serially (never two calls at once).
using ProgressFn = std::function<void(const Progress&)>;

}  // namespace ws
