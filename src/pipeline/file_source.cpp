#include "pipeline/file_source.hpp"

#include <string>
#include <utility>

namespace ws::pipeline {

FileSource::FileSource(std::shared_ptr<const Manifest> set, StopToken token,
                       std::shared_ptr<SiteTracker> tracker)
    : set_(std::move(set)),
      token_(std::move(token)),
      tracker_(std::move(tracker)),
      decodes_(std::make_unique<oneapi::tbb::task_group>()) {
  for (const FrameEntry& e : set_->frames) by_site_[e.site_index] = &e;
}

FileSource::~FileSource() {
  // Every decode delivers before it ends, so this wait is short; a task_group must be waited.
  decodes_->wait();
}

void FileSource::acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) {
  decodes_->run([this, job, delivery = std::move(delivery)] { decode(job, delivery); });
}

void FileSource::decode(const SiteJob& job, const std::shared_ptr<Delivery>& delivery) const {
  auto work = make_work(job);
  if (token_.stop_requested()) {  // no new site starts after a stop, as on the live machine
    delivery->deliver(std::move(work));
    return;
  }
  const auto index = static_cast<std::size_t>(job.site.index);
  tracker_->mark(index, SitePhase::acquiring);
  try {
    const auto it = by_site_.find(job.site.index);
    if (it == by_site_.end()) {
      work->result.status = SiteStatus::error;
      work->result.reason =
          "site " + std::to_string(job.site.index) + " has no frame in " + set_->path.string();
    } else {
      FrameImages images = read_frame_images(*set_, *it->second);
      if (!images.ok()) {
        work->result.status = SiteStatus::error;
        work->result.reason = std::move(images.error);
      } else {
        work->image = std::move(images.frame);
        work->reference = std::move(images.reference);
        work->acquired = true;
        work->processing = true;
        tracker_->mark(index, SitePhase::acquired);
      }
    }
  } catch (const std::exception& e) {  // bad_alloc and the like: a site error, never a throw
    work->image.release();
    work->reference.release();
    work->acquired = false;
    work->processing = false;
    work->result.status = SiteStatus::error;
    work->result.reason = std::string("frame decode failed: ") + e.what();
  }
  delivery->deliver(std::move(work));
}

}  // namespace ws::pipeline
