// The messages of the inspection graph. Messages own their data: cancellation and reset destroy
// messages in flight, so nothing in them may point into another thread's stack.
#pragma once

#include "waferscan/recipe.hpp"
#include "waferscan/site.hpp"

#include <opencv2/core.hpp>

#include <cstddef>
#include <memory>

namespace ws::pipeline {

/// One admitted site: `seq` is its position in the order sites enter the graph (0, 1, 2, ...),
/// which the reorder node restores before publishing.
struct SiteJob {
  std::size_t seq = 0;
  SiteSpec site;
};

/// A site travelling through the graph. `result.status` stays not_started while the frame is
/// still being processed normally; a node that fails or is cancelled sets the final status and the
/// later nodes pass it through untouched.
struct Work {
  SiteJob job;
  cv::Mat image;
  cv::Mat reference;  ///< per-frame golden reference (recorded sets); empty = the run's golden
  bool acquired = false;
  bool processing = false;  ///< true while the frame is good and nodes should work on it
  SiteResult result;
};

using WorkPtr = std::shared_ptr<Work>;

/// A new message for `job`: its result names the job's site and is not_started.
inline WorkPtr make_work(const SiteJob& job) {
  auto work = std::make_shared<Work>();
  work->job = job;
  work->result.site = job.site;
  return work;
}

}  // namespace ws::pipeline
