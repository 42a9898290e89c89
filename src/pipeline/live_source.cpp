#include "pipeline/live_source.hpp"

#include "waferscan/error.hpp"

#include <algorithm>
#include <cmath>

namespace ws::pipeline {

namespace {
std::chrono::milliseconds generous(double expected_ms) {
  return std::chrono::milliseconds(1000 + static_cast<long>(std::ceil(3.0 * expected_ms)));
}
}  // namespace

std::chrono::milliseconds AcquisitionTimeouts::move(double distance_um) const {
  return move_base +
         std::chrono::milliseconds(static_cast<long>(3.0 * move_ms_per_um * distance_um));
}

std::chrono::milliseconds override_or(double override_ms, std::chrono::milliseconds derived) {
  return override_ms > 0 ? std::chrono::milliseconds(static_cast<long>(std::ceil(override_ms)))
                         : derived;
}

AcquisitionTimeouts AcquisitionTimeouts::from(const Recipe& r) {
  AcquisitionTimeouts t;
  const double scale = r.time_scale;
  const TimeoutSpec& o = r.timeouts;  // recipe overrides; 0 = derived from the timing
  t.light = override_or(o.light_ms, generous(scale * r.light.switch_ms));
  t.capture =
      override_or(o.capture_ms, generous(scale * (r.camera.exposure_ms + r.camera.readout_ms)));
  t.move_ms_per_um = o.move_ms > 0 ? 0.0 : scale * 1000.0 / r.stage.speed_um_per_s;
  t.move_base = override_or(o.move_ms, generous(scale * r.stage.settle_ms));
  return t;
}

void LiveSource::acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) {
  // Everything the command uses is owned by it or by the agent (which outlives every run).
  auto run = [&agent = agent_, token = token_, tracker = tracker_, t = timeouts_, probe = probe_,
              job, delivery] {
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
