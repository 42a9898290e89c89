#include "pipeline/file_source.hpp"

#include "kernels/grey.hpp"

#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

namespace ws::pipeline {

cv::Mat read_grey_frame(const std::filesystem::path& file, int width, int height,
                        std::string& error) {
  std::string name = "'";  // built by appending: GCC 12 warns (-Wrestrict) on "'" + s + "'"
  name += file.string();
  name += '\'';
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    error = "frame file " + name + " is missing";
    return {};
  }
  // Read the bytes ourselves: an empty file and an unreadable one get their own reasons, and
  // imdecode never touches the path again.
  std::ifstream in(file, std::ios::binary);
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) {
    error = "frame file " + name + " cannot be read";
    return {};
  }
  if (bytes.empty()) {
    error = "frame file " + name + " is empty (0 bytes)";
    return {};
  }
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    image.release();
  }
  if (image.empty()) {
    error = "frame file " + name + " is not a decodable image (corrupt or truncated)";
    return {};
  }
  // A grey image saved in a colour format is grey; real colour or another depth is not.
  cv::Mat grey;
  if (!kernels::as_grey8(image, grey)) {
    error = "frame file " + name + " is not 8-bit grey (OpenCV type " +
            std::to_string(image.type()) + ")";
    return {};
  }
  image = grey;
  if (image.cols != width || image.rows != height) {
    error = "frame file " + name + " is " + std::to_string(image.cols) + "x" +
            std::to_string(image.rows) + ", expected " + std::to_string(width) + "x" +
            std::to_string(height);
    return {};
  }
  return image;
}

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
      const FrameEntry& entry = *it->second;
      std::string error;
      cv::Mat image = read_grey_frame(entry.image, set_->frame_width, set_->frame_height, error);
      cv::Mat reference;
      if (!image.empty() && !entry.reference.empty()) {
        reference = read_grey_frame(entry.reference, set_->frame_width, set_->frame_height, error);
        if (reference.empty())
          error = "reference of " + entry.image.filename().string() + ": " + error;
      }
      if (!error.empty()) {
        work->result.status = SiteStatus::error;
        work->result.reason = std::move(error);
      } else {
        work->image = std::move(image);
        work->reference = std::move(reference);
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
