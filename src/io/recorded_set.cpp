// Recorded sets: the one reader of their images, the writer, and the recipe a set is inspected
// with (the manifest itself is manifest.cpp).
#include "waferscan/recorded_set.hpp"
#include "base/input_file.hpp"
#include "io/grey.hpp"
#include "io/image_header.hpp"
#include "waferscan/error.hpp"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>
#include <utility>

namespace ws {

namespace {

namespace fs = std::filesystem;

const char* noun(SetImageRole role) {
  switch (role) {
    case SetImageRole::frame:
      return "frame file";
    case SetImageRole::reference:
      return "reference file";
    case SetImageRole::golden:
      return "golden reference";
    case SetImageRole::flat:
      return "flat-field image";
  }
  return "image file";
}

// A JPEG that lost its end: libjpeg decodes what is there and pads the rest with grey, so the
// decoder alone does not refuse it. A complete one ends with the EOI marker.
bool truncated_jpeg(const std::vector<uchar>& bytes) {
  const std::size_t n = bytes.size();
  const bool jpeg = n >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8;
  return jpeg && (n < 4 || bytes[n - 2] != 0xFF || bytes[n - 1] != 0xD9);
}

// The bytes of `file`, or the reason (after "<noun> 'FILE' ") they cannot be had. Reading the
// bytes ourselves gives an empty file and an unreadable one their own reasons.
std::string read_bytes(const fs::path& file, std::vector<uchar>& bytes) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return "is missing";
  if (std::string why = not_a_regular_file(file); !why.empty()) return why;
  // No image within the pixel limit takes more than 16 bytes a pixel (4 channels of 32 bits).
  const std::uint64_t cap = input_limits().image_pixels * 16 + (std::uint64_t{1} << 20);
  if (const std::uintmax_t n = fs::file_size(file, ec); !ec && n > cap) {
    return "is " + std::to_string(n) + " bytes, more than any image within the pixel limit (" +
           std::to_string(input_limits().image_pixels) +
           " pixels, WAFERSCAN_MAX_IMAGE_PIXELS) can take";
  }
  std::ifstream in(file, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return "cannot be read";
  if (bytes.empty()) return "is empty (0 bytes)";
  return {};
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// What the header declares, checked before decoding: the pixel limit, and the expected size.
std::string check_header(const std::vector<uchar>& bytes, std::optional<cv::Size> expected) {
  const std::optional<cv::Size> declared = io::header_size(bytes);
  if (!declared) return "is not a decodable image (no PNG, JPEG, TIFF, BMP or PNM header)";
  if (declared->empty()) return "is not a decodable image (its header declares no usable size)";
  const auto pixels =
      static_cast<std::uint64_t>(declared->width) * static_cast<std::uint64_t>(declared->height);
  if (pixels > input_limits().image_pixels) {
    return "declares " + size_text(declared->width, declared->height) + " (" +
           std::to_string(pixels) + " pixels) in its header; the limit is " +
           std::to_string(input_limits().image_pixels) +
           " pixels (WAFERSCAN_MAX_IMAGE_PIXELS raises it); not decoded";
  }
  if (expected && *declared != *expected) {
    return "is " + size_text(declared->width, declared->height) + ", expected " +
           size_text(expected->width, expected->height);
  }
  return {};
}

// A flat field divides each frame: every value must be finite and positive.
std::string check_flat(const cv::Mat& flat) {
  cv::Point at;
  if (cv::checkRange(flat, true, &at, std::numeric_limits<float>::min(),
                     std::numeric_limits<float>::max())) {
    return {};
  }
  const float v = flat.at<float>(at);
  const std::string where = " at x=" + std::to_string(at.x) + ", y=" + std::to_string(at.y);
  if (!std::isfinite(v)) return "holds a value that is not finite (NaN or infinity)" + where;
  return "holds " + std::to_string(v) + where +
         ": a flat field divides the frame, so every value must be finite and positive";
}

cv::Mat decode(const std::vector<uchar>& bytes) {
  try {
    return cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    return {};
  }
}

// `decoded` in the pixel type `role` requires, or the reason it is not.
std::string to_role_type(const cv::Mat& decoded, SetImageRole role, cv::Mat& out) {
  const std::string type = " (OpenCV type " + std::to_string(decoded.type()) + ")";
  if (role == SetImageRole::flat) {
    if (decoded.type() != CV_32FC1) return "is not 32-bit float, one channel" + type;
    if (std::string why = check_flat(decoded); !why.empty()) return why;
    out = decoded;
    return {};
  }
  // Colour becomes grey and 16-bit is scaled, by one rule (io/grey.hpp); other depths are refused.
  if (!io::as_grey8(decoded, out)) {
    return "is not an 8- or 16-bit image of 1 to 4 channels" + type;
  }
  return {};
}

}  // namespace

SetImage read_set_image(const fs::path& file, SetImageRole role, std::optional<cv::Size> size) {
  std::string name = noun(role);  // built by appending: GCC 12 warns (-Wrestrict) on "'" + s
  name += " '";
  name += file.string();
  name += "' ";
  SetImage r;
  std::vector<uchar> bytes;
  std::string why = read_bytes(file, bytes);
  cv::Mat decoded;
  if (why.empty() && truncated_jpeg(bytes)) {
    why = "is a truncated JPEG (it ends before its end-of-image marker)";
  }
  if (why.empty()) why = check_header(bytes, size);
  if (why.empty()) {
    decoded = decode(bytes);
    if (decoded.empty()) why = "is not a decodable image (corrupt or truncated)";
  }
  if (why.empty()) why = to_role_type(decoded, role, r.image);
  if (why.empty() && size && r.image.size() != *size) {
    why = "is " + size_text(r.image.cols, r.image.rows) + ", expected " +
          size_text(size->width, size->height);
  }
  if (!why.empty()) {
    r.image.release();
    r.error = name + why;
  }
  return r;
}

cv::Size frame_size(const Manifest& m, const FrameEntry& e) noexcept {
  if (e.width > 0 && e.height > 0) return {e.width, e.height};
  return {m.frame_width, m.frame_height};
}

FrameImages read_frame_images(const Manifest& m, const FrameEntry& e) {
  FrameImages r;
  SetImage frame = read_set_image(e.image, SetImageRole::frame, frame_size(m, e));
  if (!frame.ok()) {
    r.error = std::move(frame.error);
    return r;
  }
  if (!e.reference.empty()) {
    SetImage reference = read_set_image(e.reference, SetImageRole::reference, std::nullopt);
    if (!reference.ok()) {
      r.error = "frame " + e.image.filename().string() + ": " + reference.error;
      return r;
    }
    r.reference = std::move(reference.image);
  }
  r.frame = std::move(frame.image);
  return r;
}

SetImage read_golden(const Manifest& m) {
  if (m.golden.empty()) return {};
  return read_set_image(m.golden, SetImageRole::golden, cv::Size(m.frame_width, m.frame_height));
}

SetImage read_flat(const Manifest& m) {
  if (m.flat.empty()) return {};
  return read_set_image(m.flat, SetImageRole::flat, cv::Size(m.frame_width, m.frame_height));
}

namespace {

// Fast PNG (level 1): lossless, so reprocessing sees the very pixels the live run saw, and cheap
// enough that recording costs the run a few percent at most.
const std::vector<int> kPngParams = {cv::IMWRITE_PNG_COMPRESSION, 1};

void write_image(const fs::path& file, const cv::Mat& image, const std::vector<int>& params) {
  bool ok = false;
  try {
    ok = cv::imwrite(file.string(), image, params);
  } catch (const cv::Exception& e) {
    throw ConfigError(file.string(), 0, "", std::string("cannot write image: ") + e.what());
  }
  if (!ok) throw ConfigError(file.string(), 0, "", "cannot write image");
}

}  // namespace

RecordedSetWriter::RecordedSetWriter(const fs::path& dir, const WaferGeometry& wafer,
                                     const FrameGeometry& frame, const cv::Mat& golden,
                                     const cv::Mat& flat) {
  std::error_code ec;
  fs::create_directories(dir / "frames", ec);
  if (ec) throw ConfigError(dir.string(), 0, "--record", "cannot create folder: " + ec.message());
  manifest_.dir = fs::absolute(dir).lexically_normal();
  manifest_.path = manifest_.dir / "manifest.yaml";
  static_cast<WaferGeometry&>(manifest_) = wafer;
  static_cast<FrameGeometry&>(manifest_) = frame;
  if (!golden.empty()) {
    manifest_.golden = manifest_.dir / "golden.png";
    write_image(manifest_.golden, golden, kPngParams);
  }
  if (!flat.empty()) {
    manifest_.flat = manifest_.dir / "flat.tiff";
    write_image(manifest_.flat, flat, {});
  }
}

void RecordedSetWriter::add(const cv::Mat& frame, const SiteSpec& site) {
  char name[32];
  std::snprintf(name, sizeof name, "%05d.png", site.index);
  const fs::path file = manifest_.dir / "frames" / name;
  write_image(file, frame, kPngParams);
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
}

Manifest RecordedSetWriter::finish() {
  std::lock_guard lock(mutex_);
  std::sort(manifest_.frames.begin(), manifest_.frames.end(),
            [](const FrameEntry& a, const FrameEntry& b) { return a.site_index < b.site_index; });
  save_manifest(manifest_);
  return manifest_;
}

namespace {

// The recipe given for a set, checked against it; or one named after the set.
Recipe base_recipe(const Manifest& m, std::optional<Recipe> given) {
  if (!given) {
    Recipe r;
    r.path = m.path;
    r.name = m.dir.filename().string();
    r.camera.width = m.frame_width;
    r.camera.height = m.frame_height;
    return r;
  }
  if (given->camera.width != m.frame_width || given->camera.height != m.frame_height) {
    throw ConfigError(given->path.string(), 0, "camera",
                      "the recipe's frames are " +
                          size_text(given->camera.width, given->camera.height) +
                          " but the set's are " + size_text(m.frame_width, m.frame_height) + " (" +
                          m.path.string() + ")");
  }
  return std::move(*given);
}

}  // namespace

Recipe recipe_for_set(const Manifest& m, std::optional<Recipe> recipe) {
  Recipe r = base_recipe(m, std::move(recipe));
  r.camera.pixel_size_um = m.pixel_size_um;
  r.time_scale = 0;  // no hardware
  r.faults.clear();  // fault injection acts on the simulator only
  r.wafer = static_cast<const WaferGeometry&>(m);
  std::map<int, SiteSpec> by_index;
  for (const FrameEntry& e : m.frames) {
    by_index[e.site_index] = SiteSpec{e.site_index, e.name, e.die_i, e.die_j, e.x_um, e.y_um};
  }
  r.sites.clear();
  for (auto& [index, site] : by_index) r.sites.push_back(std::move(site));
  return r;
}

}  // namespace ws
