#include "pipeline/set_recorder.hpp"

#include "waferscan/wafer_geometry.hpp"

#include <spdlog/spdlog.h>

namespace ws::pipeline {

SetRecorder::SetRecorder(const std::filesystem::path& dir, const Recipe& recipe,
                         const cv::Mat& golden, const cv::Mat& flat)
    : writer_(dir, recipe.wafer, frame_geometry(recipe), golden, flat) {}

void SetRecorder::record(const Work& work) noexcept {
  if (!work.acquired || work.image.empty()) return;
  try {
    writer_.add(work.image, work.job.site);
  } catch (const std::exception& e) {
    spdlog::warn("record: site {} left out of the set: {}", work.job.site.name, e.what());
  }
}

}  // namespace ws::pipeline
