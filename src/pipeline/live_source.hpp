// The live frame source: the sequencer side of the graph, driving the HardwareAgent per site.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "hardware/timeout_policy.hpp"
#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <chrono>
#include <memory>

namespace ws::pipeline {

/// For each site, queues one command on the agent: light on (once), move the stage, capture. A site
/// whose command starts after a stop was requested does not start (status not_started); an aborted
/// acquisition ends `incomplete`, a driver error, a timed-out call or a frame that is not of the
/// camera's size (the camera delivered something else than the recipe asked for) ends `error`.
/// The command owns everything it touches (shared_ptr), so a thread abandoned in a driver call can
/// return after the run is over without harm.
class LiveSource final : public FrameSource {
 public:
  /// `probe` (optional) is called before and after every device call ("acquire.move.before",
  /// "acquire.capture.after", ...), on the agent's thread.
  LiveSource(HardwareAgent& agent, StopToken token, std::shared_ptr<SiteTracker> tracker,
             DeviceTimeouts timeouts, cv::Size camera_size, NodeProbe probe = {})
      : agent_(agent),
        token_(std::move(token)),
        tracker_(std::move(tracker)),
        timeouts_(timeouts),
        camera_size_(camera_size),
        probe_(std::move(probe)) {}
  void acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) override;

 private:
  HardwareAgent& agent_;
  StopToken token_;
  std::shared_ptr<SiteTracker> tracker_;
  DeviceTimeouts timeouts_;
  cv::Size camera_size_;
  NodeProbe probe_;
};

}  // namespace ws::pipeline
