#include "pipeline/live_source.hpp"

#include "waferscan/error.hpp"

namespace ws::pipeline {

namespace {
WorkPtr make_work(const SiteJob& job) {
  auto work = std::make_shared<Work>();
  work->job = job;
  work->result.site = job.site;
  return work;
}
}  // namespace

void LiveSource::acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) {
  auto run = [this, job, delivery] {
    auto work = make_work(job);
    if (token_.stop_requested()) {  // no new site starts after a stop
      delivery->deliver(std::move(work));
      return;
    }
    tracker_.mark(job.site.index, SitePhase::acquiring);
    const Machine& m = agent_.machine();
    try {
      if (!m.light->is_on()) m.light->set_on(true);
      m.stage->move_to(job.site.x_um, job.site.y_um);
      if (token_.abort_requested()) throw HardwareAborted("aborted before capture");
      work->image = m.camera->capture();
      work->acquired = true;
      work->processing = true;
      tracker_.mark(job.site.index, SitePhase::acquired);
    } catch (const HardwareAborted& e) {
      work->result.status = SiteStatus::incomplete;
      work->result.reason = std::string("acquisition aborted: ") + e.what();
    } catch (const std::exception& e) {
      work->result.status = SiteStatus::error;
      work->result.reason = std::string("acquisition failed: ") + e.what();
    }
    delivery->deliver(std::move(work));
  };
  auto drop = [job, delivery] { delivery->deliver(make_work(job)); };
  agent_.post(HardwareAgent::Command{"acquire " + job.site.name, std::move(run), std::move(drop)});
}

}  // namespace ws::pipeline
