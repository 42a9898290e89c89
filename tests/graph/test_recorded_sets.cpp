// Recorded sets through the whole graph: a set recorded from a live run reprocesses to exactly the
// live run's defects (bbox, class); a missing, empty, truncated or wrong-size frame is a site
// `error` naming the file while the run completes; resuming a canceled run gives the same final
// defects as an uninterrupted run, with no defect stored twice.
#include "common/run_fixture.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;

using DefectKey = std::tuple<int, int, int, int, std::string>;  // x, y, w, h, class

std::map<int, std::vector<DefectKey>> defects_by_site(const std::vector<SiteResult>& sites) {
  std::map<int, std::vector<DefectKey>> out;
  for (const SiteResult& s : sites) {
    auto& v = out[s.site.index];
    for (const Defect& d : s.defects) {
      const cv::Rect& b = d.features.bbox;
      v.emplace_back(b.x, b.y, b.width, b.height, d.class_name);
    }
    std::sort(v.begin(), v.end());
  }
  return out;
}

class RecordedSetTest : public RunFixture {
 protected:
  /// Records the quick recipe's live run into dir/set; returns the live run's report.
  RunReport record_live() {
    RunRequest req = request();
    req.record_dir = dir_.path() / "set";
    const RunReport live = controller_->run(req);
    EXPECT_EQ(live.state, RunState::completed);
    return live;
  }

  /// Reprocesses `set` with no hardware at all, into its own store.
  RunReport reprocess(const Manifest& set, Store** store_out = nullptr) {
    offline_ = std::make_unique<RunController>(Machine{}, dir_.path() / "offline.db");
    RunRequest req = request();
    req.set = std::make_shared<Manifest>(set);
    req.golden = cv::imread(set.golden.string(), cv::IMREAD_UNCHANGED);
    req.flat = set.flat.empty() ? cv::Mat() : cv::imread(set.flat.string(), cv::IMREAD_UNCHANGED);
    const RunReport r = offline_->run(req);
    if (store_out != nullptr) *store_out = &offline_->store();
    return r;
  }

  std::unique_ptr<RunController> offline_;
};

TEST_F(RecordedSetTest, ReprocessingARecordedRunGivesTheLiveRunsDefects) {
  const RunReport live = record_live();
  const Manifest set = load_manifest(dir_.path() / "set");
  ASSERT_EQ(set.frames.size(), recipe_.sites.size());
  EXPECT_EQ(set.frame_width, recipe_.camera.width);

  Store* offline = nullptr;
  const RunReport again = reprocess(set, &offline);
  EXPECT_EQ(again.state, RunState::completed);
  EXPECT_EQ(again.sites.done, static_cast<int>(recipe_.sites.size()));
  EXPECT_EQ(again.defects, live.defects);
  EXPECT_GT(live.defects, 0) << "the comparison must compare something";
  EXPECT_EQ(defects_by_site(offline->sites(again.id)),
            defects_by_site(controller_->store().sites(live.id)));
  // No hardware: the device steps of the safe-stop sequence are skipped, the others run.
  ASSERT_EQ(again.safe_stop.size(), 7u);
  for (const auto& step : again.safe_stop) {
    EXPECT_EQ(step.outcome, touches_hardware(step.id) ? CallOutcome::skipped : CallOutcome::ok)
        << to_string(step.id);
  }
  EXPECT_EQ(offline->run(again.id)->set_path, set.dir.string());
}

TEST_F(RecordedSetTest, BadFramesEndTheirSitesAsErrorsAndTheRunGoesOn) {
  record_live();
  const Manifest set = load_manifest(dir_.path() / "set");
  // A stand-in for every way a frame file goes bad.
  const fs::path missing = set.frames[1].image;
  const fs::path empty = set.frames[3].image;
  const fs::path truncated = set.frames[5].image;
  const fs::path wrong_size = set.frames[7].image;
  const fs::path garbage = set.frames[9].image;
  fs::remove(missing);
  std::ofstream(empty, std::ios::trunc).close();
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  cv::imwrite(wrong_size.string(), cv::Mat(32, 32, CV_8UC1, cv::Scalar(7)));
  std::ofstream(garbage, std::ios::trunc) << "this is not a PNG";

  Store* offline = nullptr;
  const RunReport r = reprocess(set, &offline);
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(r.sites.error, 5);
  EXPECT_EQ(r.sites.done, static_cast<int>(set.frames.size()) - 5);
  const std::map<int, std::pair<fs::path, std::string>> expected = {
      {1, {missing, "is missing"}},
      {3, {empty, "is empty"}},
      {5, {truncated, "not a decodable image"}},
      {7, {wrong_size, "is 32x32, expected"}},
      {9, {garbage, "not a decodable image"}},
  };
  for (const SiteResult& s : offline->sites(r.id)) {
    const auto it = expected.find(s.site.index);
    if (it == expected.end()) {
      EXPECT_EQ(s.status, SiteStatus::done) << s.site.index << ": " << s.reason;
      continue;
    }
    EXPECT_EQ(s.status, SiteStatus::error) << s.site.index;
    EXPECT_NE(s.reason.find(it->second.first.string()), std::string::npos) << s.reason;
    EXPECT_NE(s.reason.find(it->second.second), std::string::npos) << s.reason;
    EXPECT_TRUE(s.defects.empty());
  }
}

TEST_F(RecordedSetTest, ColourAndSixteenBitFramesAreReadByTheRule) {
  record_live();
  const Manifest set = load_manifest(dir_.path() / "set");
  Store* offline = nullptr;
  const RunReport before = reprocess(set, &offline);
  const auto grey_defects = offline->sites(before.id)[5].defects.size();
  // Site 5's frame as 16-bit (v * 257: the full-range rule brings back v exactly) and site 6's as
  // real colour whose BT.601 luma is the grey frame (B and R differ, G carries the rest).
  const cv::Mat grey5 = cv::imread(set.frames[5].image.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(grey5.type(), CV_8UC1);
  cv::Mat wide;
  grey5.convertTo(wide, CV_16U, 257.0);
  ASSERT_TRUE(cv::imwrite(set.frames[5].image.string(), wide));
  const cv::Mat grey6 = cv::imread(set.frames[6].image.string(), cv::IMREAD_UNCHANGED);
  const auto grey6_defects = offline->sites(before.id)[6].defects.size();
  cv::Mat colour;
  cv::merge(std::vector<cv::Mat>{grey6, grey6, grey6}, colour);
  colour.forEach<cv::Vec3b>([](cv::Vec3b& p, const int*) {
    // +10 blue and -4 red move Y by 0.114 * 10 - 0.299 * 4 = -0.056: it rounds back to the grey.
    if (p[0] < 4 || p[0] > 245) return;
    p[0] = static_cast<std::uint8_t>(p[0] + 10);
    p[2] = static_cast<std::uint8_t>(p[2] - 4);
  });
  ASSERT_TRUE(cv::imwrite(set.frames[6].image.string(), colour));
  const RunReport after = reprocess(set, &offline);
  const auto sites = offline->sites(after.id);
  EXPECT_EQ(sites[5].status, SiteStatus::done) << sites[5].reason;
  EXPECT_EQ(sites[5].defects.size(), grey_defects);
  EXPECT_EQ(sites[6].status, SiteStatus::done) << sites[6].reason;
  EXPECT_EQ(sites[6].defects.size(), grey6_defects);
}

TEST_F(RecordedSetTest, AGreyFrameSavedAsColourIsReadAsGrey) {
  record_live();
  const Manifest set = load_manifest(dir_.path() / "set");
  Store* offline = nullptr;
  const RunReport before = reprocess(set, &offline);
  const auto grey_defects = offline->sites(before.id)[4].defects.size();
  // Site 4's frame again, as a 3-channel PNG with identical channels (4 of the DeepPCB JPEGs are
  // stored so): the same frame, the same defects.
  const fs::path frame = set.frames[4].image;
  const cv::Mat grey = cv::imread(frame.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(grey.type(), CV_8UC1);
  cv::Mat colour;
  cv::merge(std::vector<cv::Mat>{grey, grey, grey}, colour);
  ASSERT_TRUE(cv::imwrite(frame.string(), colour));
  const RunReport after = reprocess(set, &offline);
  const auto site = offline->sites(after.id)[4];
  EXPECT_EQ(site.status, SiteStatus::done) << site.reason;
  EXPECT_EQ(site.defects.size(), grey_defects);
}

TEST_F(RecordedSetTest, PerFrameReferencesAreUsedWhenPresent) {
  record_live();
  Manifest set = load_manifest(dir_.path() / "set");
  // A per-frame reference equal to the frame itself: nothing differs, so no defect at that site.
  set.frames[2].reference = set.frames[2].image;
  Store* offline = nullptr;
  const RunReport r = reprocess(set, &offline);
  EXPECT_EQ(r.state, RunState::completed);
  const auto sites = offline->sites(r.id);
  EXPECT_EQ(sites[2].status, SiteStatus::done);
  EXPECT_TRUE(sites[2].defects.empty());
  EXPECT_EQ(sites[2].align_dx, 0);
  EXPECT_EQ(sites[2].align_dy, 0);
}

class ResumeTest : public RunFixture {};

TEST_F(ResumeTest, ResumeAfterCancelGivesTheSameDefectsAsAnUninterruptedRun) {
  const RunReport whole = controller_->run(request());
  ASSERT_EQ(whole.state, RunState::completed);
  const auto expected = defects_by_site(controller_->store().sites(whole.id));

  // Cancel once a few sites are published (handshake on the publish node, no sleeps).
  RunRequest req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "publish" && seq == 3) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::stop,
                                "test");
    }
  };
  const RunReport first = controller_->run(req, hooks);
  ASSERT_EQ(first.state, RunState::canceled);
  ASSERT_LT(first.sites.done, static_cast<int>(recipe_.sites.size()));
  ASSERT_GE(first.sites.done, 4);
  const auto done_before = controller_->store().sites(first.id);

  RunRequest again = request();
  again.resume = first.id;
  again.recipe.sites.clear();
  for (const SiteResult& s : done_before) {
    if (s.status != SiteStatus::done) again.recipe.sites.push_back(s.site);
  }
  const RunReport resumed = controller_->run(again);
  EXPECT_EQ(resumed.id, first.id);
  EXPECT_EQ(resumed.state, RunState::completed);
  EXPECT_EQ(resumed.sites.done, static_cast<int>(recipe_.sites.size()));
  expect_consistent(resumed);

  const auto final_sites = controller_->store().sites(first.id);
  EXPECT_EQ(defects_by_site(final_sites), expected);
  // No defect stored twice: ids are unique and the count matches the uninterrupted run.
  std::set<int> ids;
  for (const SiteResult& s : final_sites) {
    for (const Defect& d : s.defects) EXPECT_TRUE(ids.insert(d.id).second) << d.id;
  }
  EXPECT_EQ(static_cast<int>(ids.size()), whole.defects);
  const auto rec = controller_->store().run(first.id);
  EXPECT_EQ(rec->resume_count, 1);
  EXPECT_FALSE(rec->resumed_at.empty());
  EXPECT_EQ(rec->state, RunState::completed);
}

}  // namespace
}  // namespace ws::testing
