// The recorded-set module beyond the manifest: the one reader of a set's images (each way a file
// goes bad gets a reason naming it), the writer, and the recipe a set is inspected with.
#include "waferscan/error.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ws {
namespace {

namespace fs = std::filesystem;

const cv::Size kSize(64, 48);

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    path_ = fs::temp_directory_path() / ("ws-set-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

cv::Mat ramp(cv::Size size) {
  cv::Mat m(size, CV_8UC1);
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c) m.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(r + c);
  return m;
}

fs::path write(const fs::path& file, const cv::Mat& image) {
  EXPECT_TRUE(cv::imwrite(file.string(), image)) << file;
  return file;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

// The reason read_set_image gives for `file` read as a frame of kSize; empty when it reads.
std::string frame_error(const fs::path& file) {
  const SetImage r = read_set_image(file, SetImageRole::frame, kSize);
  EXPECT_NE(r.ok(), r.image.empty()) << r.error;
  return r.error;
}

TEST(SetImages, AGreyFrameReadsAsItsPixels) {
  TempDir d;
  const cv::Mat g = ramp(kSize);
  const SetImage r = read_set_image(write(d / "f.png", g), SetImageRole::frame, kSize);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.image.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(r.image != g), 0);
}

TEST(SetImages, MissingFileIsNamed) {
  TempDir d;
  EXPECT_EQ(frame_error(d / "gone.png"),
            "frame file '" + (d / "gone.png").string() + "' is missing");
}

TEST(SetImages, EmptyFileIsNamed) {
  TempDir d;
  write_text(d / "empty.png", "");
  EXPECT_EQ(frame_error(d / "empty.png"),
            "frame file '" + (d / "empty.png").string() + "' is empty (0 bytes)");
}

TEST(SetImages, AFolderIsADirectoryNotAnImage) {
  TempDir d;
  fs::create_directories(d / "dir.png");
  EXPECT_NE(frame_error(d / "dir.png").find("' is a directory, not a file"), std::string::npos);
}

TEST(SetImages, TextIsNotDecodable) {
  TempDir d;
  write_text(d / "text.png", "this is not a PNG\n");
  EXPECT_EQ(frame_error(d / "text.png"), "frame file '" + (d / "text.png").string() +
                                             "' is not a decodable image (no PNG, JPEG, TIFF, "
                                             "BMP or PNM header)");
}

TEST(SetImages, TruncatedPngIsNotDecodable) {
  TempDir d;
  const fs::path file = write(d / "half.png", ramp(kSize));
  fs::resize_file(file, fs::file_size(file) / 2);
  EXPECT_EQ(frame_error(file),
            "frame file '" + file.string() + "' is not a decodable image (corrupt or truncated)");
}

// libjpeg decodes a JPEG cut in its scan data (padding the rest with grey, with a warning); the
// reader refuses it, saying it is truncated.
TEST(SetImages, TruncatedJpegIsRefusedAsTruncated) {
  TempDir d;
  cv::Mat noise(240, 320, CV_8UC1);
  cv::randu(noise, 0, 256);
  const fs::path file = write(d / "cut.jpg", noise);
  ASSERT_TRUE(read_set_image(file, SetImageRole::frame, std::nullopt).ok()) << "whole, it reads";
  fs::resize_file(file, fs::file_size(file) * 9 / 10);
  EXPECT_FALSE(cv::imread(file.string(), cv::IMREAD_UNCHANGED).empty())
      << "libjpeg alone decodes what is left";
  EXPECT_EQ(read_set_image(file, SetImageRole::frame, std::nullopt).error,
            "frame file '" + file.string() +
                "' is a truncated JPEG (it ends before its end-of-image marker)");
}

TEST(SetImages, WrongSizeSaysBoth) {
  TempDir d;
  const fs::path file = write(d / "small.png", ramp(cv::Size(32, 16)));
  EXPECT_EQ(frame_error(file), "frame file '" + file.string() + "' is 32x16, expected 64x48");
  const SetImage any = read_set_image(file, SetImageRole::frame, std::nullopt);
  ASSERT_TRUE(any.ok()) << any.error;
  EXPECT_EQ(any.image.size(), cv::Size(32, 16));
}

TEST(SetImages, WrongTypeIsNamedWithTheOpenCvType) {
  TempDir d;
  const fs::path real = d / "real.tiff";  // 32-bit float: no rule makes it grey
  ASSERT_TRUE(cv::imwrite(real.string(), cv::Mat(kSize, CV_32FC1, cv::Scalar(0.5))));
  EXPECT_EQ(frame_error(real),
            "frame file '" + real.string() +
                "' is not an 8- or 16-bit image of 1 to 4 channels (OpenCV type " +
                std::to_string(CV_32FC1) + ")");
}

TEST(SetImages, SixteenBitAndColourAreReadByTheRule) {
  TempDir d;
  const fs::path deep = write(d / "deep.png", cv::Mat(kSize, CV_16UC1, cv::Scalar(257 * 9)));
  const SetImage wide = read_set_image(deep, SetImageRole::frame, kSize);
  ASSERT_TRUE(wide.ok()) << wide.error;
  EXPECT_EQ(wide.image.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(wide.image != 9), 0);
  const fs::path colour = write(d / "colour.png", cv::Mat(kSize, CV_8UC3, cv::Scalar(0, 0, 255)));
  const SetImage red = read_set_image(colour, SetImageRole::frame, kSize);
  ASSERT_TRUE(red.ok()) << red.error;
  EXPECT_EQ(cv::countNonZero(red.image != 76), 0);  // 0.299 * 255
}

TEST(SetImages, GreySavedAsColourIsGrey) {
  TempDir d;
  const cv::Mat g = ramp(kSize);
  cv::Mat colour;
  cv::merge(std::vector<cv::Mat>{g, g, g}, colour);
  const SetImage r = read_set_image(write(d / "c.png", colour), SetImageRole::golden, kSize);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.image.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(r.image != g), 0);
}

TEST(SetImages, EachRoleIsNamedInItsMessages) {
  TempDir d;
  const fs::path f = d / "gone.png";
  EXPECT_EQ(read_set_image(f, SetImageRole::reference, kSize).error.rfind("reference file '", 0),
            0u);
  EXPECT_EQ(read_set_image(f, SetImageRole::golden, kSize).error.rfind("golden reference '", 0),
            0u);
  EXPECT_EQ(read_set_image(f, SetImageRole::flat, kSize).error.rfind("flat-field image '", 0), 0u);
}

TEST(SetImages, TheFlatIsOneChannelFloat) {
  TempDir d;
  const cv::Mat gain(kSize, CV_32FC1, cv::Scalar(1.25));
  const SetImage r = read_set_image(write(d / "flat.tiff", gain), SetImageRole::flat, kSize);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.image.type(), CV_32FC1);
  EXPECT_EQ(cv::countNonZero(r.image != gain), 0);
  const fs::path grey = write(d / "flat.png", ramp(kSize));
  EXPECT_EQ(read_set_image(grey, SetImageRole::flat, kSize).error,
            "flat-field image '" + grey.string() +
                "' is not 32-bit float, one channel (OpenCV type " + std::to_string(CV_8UC1) + ")");
  const fs::path small = write(d / "small.tiff", cv::Mat(16, 16, CV_32FC1, cv::Scalar(1)));
  EXPECT_EQ(read_set_image(small, SetImageRole::flat, kSize).error,
            "flat-field image '" + small.string() + "' is 16x16, expected 64x48");
}

Manifest set_in(const TempDir& d) {
  Manifest m;
  m.dir = d.path();
  m.path = d / "manifest.yaml";
  m.frame_width = kSize.width;
  m.frame_height = kSize.height;
  return m;
}

TEST(SetImages, AFramesReferenceErrorNamesTheFrame) {
  TempDir d;
  const Manifest m = set_in(d);
  FrameEntry e;
  e.image = write(d / "7.png", ramp(kSize));
  const FrameImages alone = read_frame_images(m, e);
  ASSERT_TRUE(alone.ok()) << alone.error;
  EXPECT_FALSE(alone.frame.empty());
  EXPECT_TRUE(alone.reference.empty()) << "no reference of its own: the golden applies";

  e.reference = d / "ref.png";
  write_text(e.reference, "not a PNG either");
  const FrameImages bad = read_frame_images(m, e);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.frame.empty());
  EXPECT_EQ(bad.error, "frame 7.png: reference file '" + e.reference.string() +
                           "' is not a decodable image (no PNG, JPEG, TIFF, BMP or PNM header)");
}

TEST(SetImages, ASetWithoutGoldenOrFlatReadsNone) {
  TempDir d;
  const Manifest m = set_in(d);
  EXPECT_TRUE(read_golden(m).ok());
  EXPECT_TRUE(read_golden(m).image.empty());
  EXPECT_TRUE(read_flat(m).ok());
  EXPECT_TRUE(read_flat(m).image.empty());
}

TEST(RecordedSetWriter, WritesASetThatReadsBackPixelForPixel) {
  TempDir d;
  WaferGeometry g;
  g.lot_id = "L9";
  FrameGeometry frame_size;
  frame_size.frame_width = kSize.width;
  frame_size.frame_height = kSize.height;
  const cv::Mat golden = ramp(kSize);
  const cv::Mat flat(kSize, CV_32FC1, cv::Scalar(0.75));
  RecordedSetWriter writer(d / "set", g, frame_size, golden, flat);
  const cv::Mat frame = 255 - ramp(kSize);
  writer.add(frame, SiteSpec{3, "r0c3", 3, 0, 1500, 500});
  writer.add(frame, SiteSpec{1, "r0c1", 1, 0, 500, 500});
  writer.finish();

  const Manifest m = load_manifest(d / "set");
  EXPECT_EQ(m.lot_id, "L9");
  ASSERT_EQ(m.frames.size(), 2u);
  EXPECT_EQ(m.frames[0].site_index, 1) << "site order";
  EXPECT_EQ(m.frames[1].name, "r0c3");
  EXPECT_EQ(m.frames[1].x_um, 1500);
  const FrameImages read = read_frame_images(m, m.frames[1]);
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_EQ(cv::countNonZero(read.frame != frame), 0);
  EXPECT_EQ(cv::countNonZero(read_golden(m).image != golden), 0);
  EXPECT_EQ(cv::countNonZero(read_flat(m).image != flat), 0);
}

TEST(RecordedSetWriter, AFolderThatCannotBeMadeIsAConfigError) {
  TempDir d;
  write_text(d / "file", "x");
  EXPECT_THROW(
      RecordedSetWriter(d / "file" / "set", WaferGeometry{}, FrameGeometry{}, cv::Mat(), cv::Mat()),
      ConfigError);
}

Manifest two_frame_set() {
  Manifest m;
  m.path = "/sets/lot7/manifest.yaml";
  m.dir = "/sets/lot7";
  m.lot_id = "L7";
  m.wafer_diameter_mm = 150;
  m.die_pitch_x_um = 5000;
  m.frame_width = kSize.width;
  m.frame_height = kSize.height;
  m.pixel_size_um = 2.5;
  for (int index : {4, 0}) {
    FrameEntry e;
    e.site_index = index;
    e.name = "s" + std::to_string(index);
    e.die_i = index;
    m.frames.push_back(e);
  }
  return m;
}

TEST(RecipeForSet, WithoutARecipeOneIsBuiltFromTheManifest) {
  const Recipe r = recipe_for_set(two_frame_set(), std::nullopt);
  EXPECT_EQ(r.path, fs::path("/sets/lot7/manifest.yaml"));
  EXPECT_EQ(r.name, "lot7");
  EXPECT_EQ(r.camera.width, kSize.width);
  EXPECT_EQ(r.camera.height, kSize.height);
  EXPECT_EQ(r.camera.pixel_size_um, 2.5);
  EXPECT_EQ(r.time_scale, 0);
  EXPECT_EQ(r.wafer.lot_id, "L7");
  EXPECT_EQ(r.wafer.wafer_diameter_mm, 150);
  EXPECT_EQ(r.wafer.die_pitch_x_um, 5000);
  ASSERT_EQ(r.sites.size(), 2u);
  EXPECT_EQ(r.sites[0].index, 0) << "sites in index order";
  EXPECT_EQ(r.sites[1].name, "s4");
  EXPECT_EQ(r.sites[1].die_i, 4);
}

TEST(RecipeForSet, AGivenRecipeKeepsItsSettingsButTakesTheSetsSitesAndWafer) {
  Recipe given;
  given.path = "mine.yaml";
  given.name = "mine";
  given.camera.width = kSize.width;
  given.camera.height = kSize.height;
  given.time_scale = 1;
  given.detection.min_area_px = 77;
  given.model = "m.json";
  given.sites.push_back(SiteSpec{9, "old", 0, 0, 0, 0});
  given.faults.push_back(FaultSpec{});
  const Recipe r = recipe_for_set(two_frame_set(), given);
  EXPECT_EQ(r.name, "mine");
  EXPECT_EQ(r.detection.min_area_px, 77);
  EXPECT_EQ(r.model, fs::path("m.json"));
  EXPECT_EQ(r.time_scale, 0);
  EXPECT_TRUE(r.faults.empty());
  EXPECT_EQ(r.wafer.lot_id, "L7");
  ASSERT_EQ(r.sites.size(), 2u);
  EXPECT_EQ(r.sites[1].index, 4);
}

TEST(RecipeForSet, ARecipeForAnotherFrameSizeIsRefusedNamingIt) {
  Recipe given;
  given.path = "mine.yaml";
  given.camera.width = 32;
  given.camera.height = 32;
  try {
    recipe_for_set(two_frame_set(), given);
    FAIL() << "a 32x32 recipe for a 64x48 set";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "mine.yaml");
    EXPECT_EQ(e.key(), "camera");
    EXPECT_NE(std::string(e.what()).find("the recipe's frames are 32x32 but the set's are 64x48"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ws
