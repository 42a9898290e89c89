// The preprocess node body: it reads the camera's frame without writing it (the simulated camera
// hands the same pool buffer to several frames in flight), writes into a reused frame buffer, and
// gives that buffer back when the site is aborted. The detect node body with a model that registers
// locally: a real pair is done with its defects; the same frame against another board's template,
// a blank frame and a frame whose halves moved apart beyond the search end their sites
// `unreliable` with a reason, never done and clean; a frame of another size than its reference is
// `unreliable` at preprocess; halves off by a few pixels are registered and found clean.
#include "base/frame_buffers.hpp"
#include "kernels/median3.hpp"
#include "pipeline/stages.hpp"
#include "waferscan/classifier.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

namespace ws::pipeline {
namespace {

constexpr int kWidth = 70;
constexpr int kHeight = 45;

Recipe small_recipe() {
  Recipe r;
  r.camera.width = kWidth;
  r.camera.height = kHeight;
  r.detection.band_rows = 8;
  return r;
}

const inspect::FrameInspector& inspector() {
  static const inspect::FrameInspector kInspector(std::nullopt, small_recipe().detection);
  return kInspector;
}

// The reference the frame is checked against: only its size matters to preprocess.
const cv::Mat& golden() {
  static const cv::Mat kGolden(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
  return kGolden;
}

Work work_on(const cv::Mat& frame) {
  Work w;
  w.image = frame;
  w.acquired = true;
  w.processing = true;
  return w;
}

cv::Mat noise_frame() {
  cv::Mat frame(kHeight, kWidth, CV_8UC1);
  cv::RNG rng(11);
  rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
  return frame;
}

TEST(PreprocessStage, ReadsTheFrameWithoutWritingIt) {
  const cv::Mat frame = noise_frame();
  const cv::Mat before = frame.clone();
  Work w = work_on(frame);
  preprocess_stage(w, inspector(), golden(), cv::Mat(), Checkpoint{});
  ASSERT_TRUE(w.processing) << w.result.reason;
  EXPECT_NE(w.image.data, frame.data) << "a new image";
  EXPECT_EQ(cv::countNonZero(frame != before), 0) << "the shared frame is untouched";
  cv::Mat expected;
  ASSERT_EQ(kernels::median3(before, 8, Checkpoint{}, expected), kernels::Status::ok);
  EXPECT_EQ(cv::countNonZero(w.image != expected), 0);
}

TEST(PreprocessStage, AFrameOfAnotherSizeThanItsReferenceIsUnreliableAndABadTypeAnError) {
  Work other_size = work_on(cv::Mat(kHeight, kWidth + 2, CV_8UC1, cv::Scalar(9)));
  preprocess_stage(other_size, inspector(), golden(), cv::Mat(), Checkpoint{});
  EXPECT_FALSE(other_size.processing);
  EXPECT_EQ(other_size.result.status, SiteStatus::unreliable);
  EXPECT_NE(other_size.result.reason.find("72x45 does not match its 70x45 reference"),
            std::string::npos)
      << other_size.result.reason;
  Work bad_type = work_on(cv::Mat(kHeight, kWidth, CV_16UC1, cv::Scalar(9)));
  preprocess_stage(bad_type, inspector(), golden(), cv::Mat(), Checkpoint{});
  EXPECT_EQ(bad_type.result.status, SiteStatus::error);
  EXPECT_NE(bad_type.result.reason.find("bad frame"), std::string::npos) << bad_type.result.reason;
}

TEST(PreprocessStage, WritesIntoABufferAnEarlierSiteLetGoOf) {
  const cv::Mat frame = noise_frame();
  Work first = work_on(frame);
  preprocess_stage(first, inspector(), golden(), cv::Mat(), Checkpoint{});
  ASSERT_TRUE(first.processing);
  ASSERT_NE(first.image.u, nullptr);
  EXPECT_EQ(first.image.u->currAllocator, &frame_buffers());
  const uchar* buffer = first.image.data;
  Work second = work_on(frame);
  preprocess_stage(second, inspector(), golden(), cv::Mat(), Checkpoint{});
  EXPECT_NE(second.image.data, buffer) << "the first site still holds its buffer";
  const cv::Mat second_output = second.image.clone();
  first.image.release();
  Work third = work_on(frame);
  preprocess_stage(third, inspector(), golden(), cv::Mat(), Checkpoint{});
  EXPECT_EQ(third.image.data, buffer) << "the released buffer is used again";
  EXPECT_EQ(cv::countNonZero(third.image != second_output), 0) << "and holds the whole output";
}

TEST(PreprocessStage, AnAbortedSiteGivesItsBufferBack) {
  const cv::Mat frame = noise_frame();
  StopSource stop;
  stop.request(StopReason::operator_request, StopStrength::abort, "test");
  {
    cv::Mat spare;  // an idle buffer of the output's size, for the stage to take
    frame_buffers().create(spare, frame.size(), CV_8UC1);
  }
  const std::size_t idle = frame_buffers().idle();
  ASSERT_GE(idle, 1U);
  Work w = work_on(frame);
  preprocess_stage(w, inspector(), golden(), cv::Mat(), Checkpoint(stop.token()));
  EXPECT_FALSE(w.processing);
  EXPECT_EQ(w.result.status, SiteStatus::incomplete);
  EXPECT_TRUE(w.image.empty());
  EXPECT_EQ(frame_buffers().idle(), idle) << "the buffer it took went back to the pool";
}

cv::Mat deeppcb(const std::string& file) {
  return cv::imread((std::filesystem::path(WS_SOURCE_DIR) / "data" / "deeppcb" / file).string(),
                    cv::IMREAD_GRAYSCALE);
}

const classify::Classifier& deeppcb_model() {
  static const auto kModel = classify::Classifier::load(std::filesystem::path(WS_SOURCE_DIR) /
                                                        "data" / "models" / "deeppcb.json");
  return kModel;
}

// `frame` against `reference` through the detect stage of the shipped DeepPCB model.
Work detect_against(const cv::Mat& frame, const cv::Mat& reference) {
  const auto shipped = inspect::FrameInspector::for_model(deeppcb_model(), Recipe{}.detection);
  Work w = work_on(frame);
  w.reference = reference;
  detect_stage(w, shipped, cv::Mat(), Checkpoint{});
  return w;
}

void expect_unreliable(const Work& w) {
  EXPECT_FALSE(w.processing);
  EXPECT_EQ(w.result.status, SiteStatus::unreliable) << w.result.reason;
  EXPECT_TRUE(w.result.defects.empty());
  EXPECT_NE(w.result.reason.find("registration unreliable"), std::string::npos) << w.result.reason;
}

// `img` with the columns from `x0` on moved right by `dx` (the left part stays): a scan whose
// halves moved apart.
cv::Mat shift_right_part(const cv::Mat& img, int x0, int dx) {
  cv::Mat out = img.clone();
  img(cv::Rect(x0, 0, img.cols - x0 - dx, img.rows))
      .copyTo(out(cv::Rect(x0 + dx, 0, img.cols - x0 - dx, img.rows)));
  return out;
}

TEST(DetectStage, AFrameRegisteredAgainstAnotherBoardIsUnreliableNotClean) {
  ASSERT_TRUE(deeppcb_model().detection().has_value());
  ASSERT_GT(deeppcb_model().detection()->register_tile_px, 0);
  const cv::Mat frame = deeppcb("77000000_test.jpg");
  ASSERT_FALSE(frame.empty());
  const Work own = detect_against(frame, deeppcb("77000000_temp.jpg"));
  EXPECT_TRUE(own.processing) << own.result.reason;
  EXPECT_FALSE(own.result.defects.empty());
  expect_unreliable(detect_against(frame, deeppcb("92000000_temp.jpg")));
}

TEST(DetectStage, ABlankFrameIsUnreliableNotClean) {
  const cv::Mat temp = deeppcb("77000000_temp.jpg");
  for (const int level : {0, 255}) {
    expect_unreliable(detect_against(cv::Mat(temp.size(), CV_8UC1, cv::Scalar(level)), temp));
  }
}

TEST(DetectStage, HalvesMovedApartAreRegisteredOrUnreliableNeverArtefacts) {
  const cv::Mat temp = deeppcb("77000001_temp.jpg");
  const cv::Mat test = deeppcb("77000001_test.jpg");
  const Work whole = detect_against(test, temp);
  ASSERT_TRUE(whole.processing) << whole.result.reason;
  // A few pixels: the local model follows each half; no more defects than the pair has.
  const Work near = detect_against(shift_right_part(test, 320, 3), temp);
  ASSERT_TRUE(near.processing) << near.result.reason;
  EXPECT_LE(near.result.defects.size(), whole.result.defects.size() + 1);
  // Far beyond the search of every tile: not comparable, so unreliable (not dozens of edges).
  expect_unreliable(detect_against(shift_right_part(test, 320, 40), temp));
}

}  // namespace
}  // namespace ws::pipeline
