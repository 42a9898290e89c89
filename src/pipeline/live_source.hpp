// The live frame source: the sequencer side of the graph, driving the HardwareAgent per site.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "waferscan/cancel.hpp"

namespace ws::pipeline {

/// For each site, queues one command on the agent: light on (once), move the stage, capture. A site
/// whose command starts after a stop was requested does not start (status not_started); an aborted
/// acquisition ends `incomplete`, a driver error ends `error`.
class LiveSource final : public FrameSource {
 public:
  LiveSource(HardwareAgent& agent, StopToken token, SiteTracker& tracker)
      : agent_(agent), token_(std::move(token)), tracker_(tracker) {}
  void acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) override;

 private:
  HardwareAgent& agent_;
  StopToken token_;
  SiteTracker& tracker_;
};

}  // namespace ws::pipeline
