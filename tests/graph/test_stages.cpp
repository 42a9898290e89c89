// The preprocess node body: it reads the camera's frame without writing it (the simulated camera
// hands the same pool buffer to several frames in flight), writes into a reused frame buffer, and
// gives that buffer back when the site is aborted. The detect node body with a model that registers
// locally: a real pair is done with its defects, the same frame against another board's template
// ends its site as an error that says why, never done and clean.
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

TEST(DetectStage, AFrameRegisteredAgainstAnotherBoardIsAnErrorNotClean) {
  const auto model = classify::Classifier::load(std::filesystem::path(WS_SOURCE_DIR) / "data" /
                                                "models" / "deeppcb.json");
  ASSERT_TRUE(model.detection().has_value());
  ASSERT_GT(model.detection()->register_tile_px, 0);
  const cv::Mat frame = deeppcb("77000000_test.jpg");
  ASSERT_FALSE(frame.empty());
  const auto shipped = inspect::FrameInspector::for_model(model, Recipe{}.detection);
  Work own = work_on(frame);
  own.reference = deeppcb("77000000_temp.jpg");
  detect_stage(own, shipped, cv::Mat(), Checkpoint{});
  EXPECT_TRUE(own.processing) << own.result.reason;
  EXPECT_FALSE(own.result.defects.empty());

  Work other = work_on(frame);
  other.reference = deeppcb("92000000_temp.jpg");
  detect_stage(other, shipped, cv::Mat(), Checkpoint{});
  EXPECT_FALSE(other.processing);
  EXPECT_EQ(other.result.status, SiteStatus::error);
  EXPECT_TRUE(other.result.defects.empty());
  EXPECT_NE(other.result.reason.find("registration unreliable"), std::string::npos)
      << other.result.reason;
}

}  // namespace
}  // namespace ws::pipeline
