#include "pipeline/live_source.hpp"

#include "waferscan/error.hpp"

#include <algorithm>
#include <cmath>

namespace ws::pipeline {

void LiveSource::acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) {
  // Everything the command uses is owned by it or by the agent (which outlives every run).
  auto run = [&agent = agent_, token = token_, tracker = tracker_, t = timeouts_, probe = probe_,
              size = camera_size_, job, delivery] {
    // Runs one device call under the watchdog, with the probe on either side of it.
    std::string timed;  // the call in progress and its timeout, for a timed-out site's reason
    const auto call = [&](Device d, const char* point, std::chrono::milliseconds timeout,
                          const std::function<void()>& fn) {
      timed = std::string(point) + " after " + std::to_string(timeout.count()) + " ms";
      if (probe) probe(std::string("acquire.") + point + ".before", job.seq);
      agent.device_call(d, point, timeout, fn);
      if (probe) probe(std::string("acquire.") + point + ".after", job.seq);
    };
    auto work = make_work(job);
    if (token.stop_requested()) {  // no new site starts after a stop
      delivery->deliver(std::move(work));
      return;
    }
    const auto index = static_cast<std::size_t>(job.site.index);
    tracker->mark(index, SitePhase::acquiring);
    const Machine& m = agent.machine();
    try {
      if (!m.light->is_on()) {
        call(Device::light, "light_on", t.light, [&] { m.light->set_on(true); });
      }
      const auto from = m.stage->position_um();
      const double distance = std::hypot(job.site.x_um - from.x, job.site.y_um - from.y);
      call(Device::stage, "move", t.move(distance),
           [&] { m.stage->move_to(job.site.x_um, job.site.y_um); });
      if (token.abort_requested()) throw HardwareAborted("aborted before capture");
      call(Device::camera, "capture", t.capture, [&] { work->image = m.camera->capture(); });
      if (work->image.size() != size) {  // a camera fault, not a registration question
        work->result.status = SiteStatus::error;
        work->result.reason = "bad frame: the camera returned " + std::to_string(work->image.cols) +
                              "x" + std::to_string(work->image.rows) + ", the recipe's camera is " +
                              std::to_string(size.width) + "x" + std::to_string(size.height);
        work->image.release();
        delivery->deliver(std::move(work));
        return;
      }
      work->acquired = true;
      work->processing = true;
      tracker->mark(index, SitePhase::acquired);
    } catch (const CommandAbandoned&) {
      throw;  // the run may be gone: touch nothing more
    } catch (const HardwareAborted& e) {
      // Aborted by the run (abort requested): abandoned. Otherwise the watchdog aborted a call
      // that overran its timeout: a failed acquisition.
      const bool by_run = token.abort_requested();
      work->result.status = by_run ? SiteStatus::incomplete : SiteStatus::error;
      work->result.reason = (by_run ? std::string("acquisition aborted: ")
                                    : "acquisition timed out (" + timed + ") and was aborted: ") +
                            e.what();
    } catch (const std::exception& e) {
      work->result.status = SiteStatus::error;
      work->result.reason = std::string("acquisition failed: ") + e.what();
    }
    delivery->deliver(std::move(work));
  };
  auto drop = [job, delivery] { delivery->deliver(make_work(job)); };
  auto abandon = [job, delivery] {
    auto work = make_work(job);
    work->result.status = SiteStatus::error;
    work->result.reason = "acquisition timed out; the device is Faulted";
    delivery->deliver(std::move(work));
  };
  agent_.post(HardwareAgent::Command{"acquire " + job.site.name, std::move(run), std::move(drop),
                                     std::move(abandon)});
}

}  // namespace ws::pipeline
