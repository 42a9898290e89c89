// The offline frame source: decodes the frames of a recorded set in place of the live sequencer.
#pragma once

#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recorded_set.hpp"

#include <oneapi/tbb/task_group.h>

#include <map>
#include <memory>
#include <string>

namespace ws::pipeline {

/// For each admitted site, decodes its frame (and its per-frame reference, if the manifest has one)
/// on a task of the calling arena, so acquire() returns at once and frames decode in parallel;
/// decoding is bounded by the graph's in-flight cap because acquire() is only called for admitted
/// sites. A site whose decode starts after a stop was requested does not start (not_started); a
/// missing or corrupt file ends the site as `error` with the reason read_frame_images gives.
/// Thread safety: acquire() may be called concurrently. The destructor waits for decodes that have
/// not finished (each has already delivered or will deliver; none blocks).
class FileSource final : public FrameSource {
 public:
  /// `set` must hold an entry for every site index the run admits.
  FileSource(std::shared_ptr<const Manifest> set, StopToken token,
             std::shared_ptr<SiteTracker> tracker);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  void acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) override;

 private:
  void decode(const SiteJob& job, const std::shared_ptr<Delivery>& delivery) const;

  std::shared_ptr<const Manifest> set_;
  std::map<int, const FrameEntry*> by_site_;
  StopToken token_;
  std::shared_ptr<SiteTracker> tracker_;
  std::unique_ptr<oneapi::tbb::task_group> decodes_;
};

}  // namespace ws::pipeline
