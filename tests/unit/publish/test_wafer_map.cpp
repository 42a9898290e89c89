// Pins down the wafer-map picture: exactly the requested size, not blank (pixel variance, several
// colours: wafer, shaded dies, defect classes), written as a PNG that decodes to the same picture,
// for a hand-made run and a real run on the simulator; a picture too small is refused.
#include "common/run_fixture.hpp"
#include "publish/wafer_map.hpp"
#include "synthetic_run.hpp"

#include <opencv2/imgcodecs.hpp>

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <tuple>

namespace ws::testing {
namespace {

std::size_t colours(const cv::Mat& img) {
  std::set<std::tuple<int, int, int>> seen;
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) {
      const auto& p = img.at<cv::Vec3b>(y, x);
      seen.insert({p[0], p[1], p[2]});
    }
  }
  return seen.size();
}

bool has_colour(const cv::Mat& img, cv::Vec3b c) {
  cv::Mat mask;
  cv::inRange(img, c, c, mask);
  return cv::countNonZero(mask) > 0;
}

void expect_not_blank(const cv::Mat& img) {
  cv::Scalar mean, stddev;
  cv::meanStdDev(img, mean, stddev);
  EXPECT_GT(stddev[0] + stddev[1] + stddev[2], 30.0);
  EXPECT_GE(colours(img), 8u);
}

TEST(WaferMap, SyntheticRunHasRequestedSizeAndIsNotBlank) {
  const auto r = synthetic_run();
  const cv::Mat img =
      publish::draw_wafer_map(r.run, r.sites, synthetic_geometry(), {.width = 800, .height = 600});
  ASSERT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.cols, 800);
  EXPECT_EQ(img.rows, 600);
  expect_not_blank(img);
  // Inspected (green), not-inspected (orange) dies and the particle colour are all drawn.
  EXPECT_TRUE(has_colour(img, {170, 230, 170}));
  EXPECT_TRUE(has_colour(img, {120, 190, 250}));
  EXPECT_TRUE(has_colour(img, {200, 60, 20}));
}

TEST(WaferMap, AnUnreliableSiteHasItsOwnColourOnTheWafer) {
  auto r = synthetic_run();
  const cv::Vec3b violet(220, 140, 200);
  const publish::WaferMapOptions size{.width = 800, .height = 600};
  const auto wafer_part = [&](const cv::Mat& img) {  // left of the legend (260 px wide)
    return img.colRange(0, img.cols - 260);
  };
  EXPECT_FALSE(has_colour(
      wafer_part(publish::draw_wafer_map(r.run, r.sites, synthetic_geometry(), size)), violet));
  r.sites[1].status = SiteStatus::unreliable;
  const cv::Mat img = publish::draw_wafer_map(r.run, r.sites, synthetic_geometry(), size);
  EXPECT_TRUE(has_colour(wafer_part(img), violet));
  EXPECT_FALSE(has_colour(wafer_part(img), {120, 190, 250}))  // it was the only not-inspected die
      << "an unreliable die is not shaded as not inspected";
}

TEST(WaferMap, TooSmallIsRefused) {
  const auto r = synthetic_run();
  EXPECT_THROW((void)publish::draw_wafer_map(r.run, r.sites, synthetic_geometry(),
                                             {.width = 100, .height = 100}),
               std::invalid_argument);
}

class WaferMapOfRealRun : public RunFixture {};

TEST_F(WaferMapOfRealRun, PngDecodesToTheDefaultSizeAndIsNotBlank) {
  const RunReport rep = controller_->run(request());
  ASSERT_EQ(rep.state, RunState::completed);
  const auto run = *controller_->store().run(rep.id);
  const auto png = dir_.path() / "map.png";
  publish::write_wafer_map_png(png, run, controller_->store().sites(rep.id),
                               publish::load_run_geometry(run));
  const cv::Mat img = cv::imread(png.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  const publish::WaferMapOptions defaults;
  EXPECT_EQ(img.cols, defaults.width);
  EXPECT_EQ(img.rows, defaults.height);
  expect_not_blank(img);
}

}  // namespace
}  // namespace ws::testing
