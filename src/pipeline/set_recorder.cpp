#include "pipeline/set_recorder.hpp"

#include "waferscan/error.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <spdlog/spdlog.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cstdio>
#include <system_error>

namespace ws::pipeline {

namespace {

// Fast PNG (level 1): lossless, so reprocessing sees the very pixels the live run saw, and cheap
// enough that recording costs the run a few percent at most.
const std::vector<int> kPngParams = {cv::IMWRITE_PNG_COMPRESSION, 1};

void write_image(const std::filesystem::path& file, const cv::Mat& image,
                 const std::vector<int>& params) {
  bool ok = false;
  try {
    ok = cv::imwrite(file.string(), image, params);
  } catch (const cv::Exception& e) {
    throw ConfigError(file.string(), 0, "", std::string("cannot write image: ") + e.what());
  }
  if (!ok) throw ConfigError(file.string(), 0, "", "cannot write image");
}

}  // namespace

SetRecorder::SetRecorder(std::filesystem::path dir, const Recipe& recipe, const cv::Mat& golden,
                         const cv::Mat& flat) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "frames", ec);
  if (ec) throw ConfigError(dir.string(), 0, "--record", "cannot create folder: " + ec.message());
  manifest_.dir = std::filesystem::absolute(dir).lexically_normal();
  manifest_.path = manifest_.dir / "manifest.yaml";
  static_cast<WaferGeometry&>(manifest_) = recipe.wafer;
  static_cast<FrameGeometry&>(manifest_) = frame_geometry(recipe);
  if (!golden.empty()) {
    manifest_.golden = manifest_.dir / "golden.png";
    write_image(manifest_.golden, golden, kPngParams);
  }
  if (!flat.empty()) {
    // 32-bit float TIFF keeps the gain exactly.
    manifest_.flat = manifest_.dir / "flat.tiff";
    write_image(manifest_.flat, flat, {});
  }
}

void SetRecorder::record(const Work& work) noexcept {
  if (!work.acquired || work.image.empty()) return;
  const SiteSpec& site = work.job.site;
  char name[32];
  std::snprintf(name, sizeof name, "%05d.png", site.index);
  const auto file = manifest_.dir / "frames" / name;
  try {
    write_image(file, work.image, kPngParams);
    FrameEntry e;
    e.image = file;
    e.site_index = site.index;
    e.name = site.name;
    e.die_i = site.die_i;
    e.die_j = site.die_j;
    e.x_um = site.x_um;
    e.y_um = site.y_um;
    std::lock_guard lock(mutex_);
    manifest_.frames.push_back(std::move(e));
  } catch (const std::exception& e) {
    spdlog::warn("record: site {} left out of the set: {}", site.name, e.what());
  }
}

Manifest SetRecorder::finish() {
  std::lock_guard lock(mutex_);
  std::sort(manifest_.frames.begin(), manifest_.frames.end(),
            [](const FrameEntry& a, const FrameEntry& b) { return a.site_index < b.site_index; });
  save_manifest(manifest_);
  return manifest_;
}

}  // namespace ws::pipeline
