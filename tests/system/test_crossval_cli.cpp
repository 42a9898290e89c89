// `waferscan import pairs` then `crossval` as a user runs them on the DeepPCB pairs shipped in
// data/deeppcb (two board groups): leave one group out prints a line per group, the pooled
// per-class table and the class-agnostic score; random folds say they are random; a group rule
// that does not fit the names is a usage error naming the frame.
#include "common/process.hpp"
#include "common/run_fixture.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace ws::testing {
namespace {

class CrossvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto r = run_cli(
        {"import", "pairs", source_path("data/deeppcb").string(), "--out", set()}, dir_.path());
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string set() { return (dir_.path() / "set").string(); }
  TempDir dir_;
};

TEST_F(CrossvalCli, LeaveOneGroupOutReportsEachGroupAndTheLocationOnlyScore) {
  const auto r =
      run_cli({"crossval", set(), "--group-by", "first 5 digits", "--repeat", "0"}, dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("leave one group out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n77000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n92000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("class-agnostic"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("random"), std::string::npos) << r.out;

  const auto j = run_cli({"crossval", set(), "--group-by", "^(\\d{5})", "--repeat", "0", "--json"},
                         dir_.path());
  ASSERT_EQ(j.code, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["validation"], "leave-one-group-out");
  ASSERT_EQ(doc["per_fold"].size(), 2u);
  EXPECT_EQ(doc["per_fold"][0]["class"], "77000");
  EXPECT_EQ(doc["per_fold"][1]["class"], "92000");
  EXPECT_EQ(doc["per_fold"][0]["frames"].get<int>() + doc["per_fold"][1]["frames"].get<int>(),
            doc["frames"].get<int>());
  EXPECT_EQ(doc["class_agnostic"]["truths"], doc["overall"]["truths"]);
  EXPECT_GE(doc["class_agnostic"]["correct"].get<int>(), doc["overall"]["correct"].get<int>());
}

TEST_F(CrossvalCli, RandomFoldsAreLabelledRandom) {
  const auto r = run_cli({"crossval", set(), "--folds", "3", "--repeat", "0"}, dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("random folds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("class-agnostic"), std::string::npos) << r.out;
}

// train's classifier options reach the model file: the forest's tree count, the chosen features,
// the speck rule; an unknown or repeated feature is a usage error before any frame is read.
TEST_F(CrossvalCli, TrainWritesTheForestItWasAskedFor) {
  const std::string model = (dir_.path() / "m.json").string();
  const auto r = run_cli({"train", set(), "--out", model, "--trees", "5", "--min-component", "7",
                          "--features", "fill,polarity,components_delta"},
                         dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(model);
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["method"], "forest");
  EXPECT_EQ(doc["forest"]["trees"].size(), 5u);
  EXPECT_EQ(doc["features"], (nlohmann::json{"fill", "polarity", "components_delta"}));
  EXPECT_EQ(doc["detection"]["context_min_component_px"], 7);
  for (const auto* bad : {"fill,colour", "fill,fill"}) {
    const auto b = run_cli({"train", set(), "--out", model, "--features", bad}, dir_.path());
    EXPECT_EQ(b.code, 2) << bad << "\n" << b.err;
    EXPECT_NE(b.err.find("--features"), std::string::npos) << b.err;
  }
}

TEST_F(CrossvalCli, AGroupRuleThatDoesNotFitIsAUsageError) {
  const auto bad =
      run_cli({"crossval", set(), "--group-by", "^x(\\d)", "--repeat", "0"}, dir_.path());
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("77000000"), std::string::npos) << bad.err;
  // Every name contains a "0": one group, nothing to hold out.
  const auto one = run_cli({"crossval", set(), "--group-by", "0", "--repeat", "0"}, dir_.path());
  EXPECT_EQ(one.code, 2) << one.err;
  EXPECT_NE(one.err.find("fewer than 2 groups"), std::string::npos) << one.err;
  const auto both =
      run_cli({"crossval", set(), "--group-by", "first 5 digits", "--folds", "3", "--repeat", "0"},
              dir_.path());
  EXPECT_NE(both.code, 0) << "--folds and --group-by exclude each other";
}

}  // namespace
}  // namespace ws::testing
