// The live frame source: the sequencer side of the graph, driving the HardwareAgent per site.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recipe.hpp"

#include <chrono>
#include <memory>

namespace ws::pipeline {

/// A recipe timeout override (`timeouts:` in ms, rounded up) when it is set (> 0), else `derived`.
[[nodiscard]] std::chrono::milliseconds override_or(double override_ms,
                                                    std::chrono::milliseconds derived);

/// Per-call timeouts of the device calls of one acquisition, derived from the recipe's timing
/// (three times the expected duration plus one second, unless the recipe sets them).
struct AcquisitionTimeouts {
  std::chrono::milliseconds light{1000};
  std::chrono::milliseconds capture{1000};
  double move_ms_per_um = 0;  ///< scaled travel time per micrometre
  std::chrono::milliseconds move_base{1000};
  [[nodiscard]] std::chrono::milliseconds move(double distance_um) const;
  static AcquisitionTimeouts from(const Recipe& recipe);
};

/// For each site, queues one command on the agent: light on (once), move the stage, capture. A site
/// whose command starts after a stop was requested does not start (status not_started); an aborted
/// acquisition ends `incomplete`, a driver error or a timed-out call ends `error`.
/// The command owns everything it touches (shared_ptr), so a thread abandoned in a driver call can
/// return after the run is over without harm.
class LiveSource final : public FrameSource {
 public:
  /// `probe` (optional) is called before and after every device call ("acquire.move.before",
  /// "acquire.capture.after", ...), on the agent's thread.
  LiveSource(HardwareAgent& agent, StopToken token, std::shared_ptr<SiteTracker> tracker,
             AcquisitionTimeouts timeouts, NodeProbe probe = {})
      : agent_(agent),
        token_(std::move(token)),
        tracker_(std::move(tracker)),
        timeouts_(timeouts),
        probe_(std::move(probe)) {}
  void acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) override;

 private:
  HardwareAgent& agent_;
  StopToken token_;
  std::shared_ptr<SiteTracker> tracker_;
  AcquisitionTimeouts timeouts_;
  NodeProbe probe_;
};

}  // namespace ws::pipeline
