// Leave-one-group-out grouping: the group of a frame from its name ('first N digits' or a regex's
// first capture group), and the errors that name the rule or the frame.
#include "inspect/evaluation.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ws::inspect {
namespace {

const std::vector<std::string> kNames{"00041000", "00041007", "13000002", "92000110"};

TEST(GroupNames, FirstNDigitsTakesThePrefix) {
  EXPECT_EQ(group_names(kNames, "first 5 digits"),
            (std::vector<std::string>{"00041", "00041", "13000", "92000"}));
  EXPECT_EQ(group_names(kNames, "first 1 digit"), (std::vector<std::string>{"0", "0", "1", "9"}));
}

TEST(GroupNames, RegexUsesItsFirstCaptureGroupOrTheWholeMatch) {
  EXPECT_EQ(group_names(kNames, "^(\\d{2})\\d"),
            (std::vector<std::string>{"00", "00", "13", "92"}));
  EXPECT_EQ(group_names(kNames, "^\\d{3}"), (std::vector<std::string>{"000", "000", "130", "920"}));
  EXPECT_EQ(group_names({"board-a_7", "board-b_1"}, "board-([a-z]+)"),
            (std::vector<std::string>{"a", "b"}));
}

TEST(GroupNames, ANameTheRuleDoesNotMatchIsNamed) {
  try {
    group_names({"00041000", "pcb7"}, "first 5 digits");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pcb7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(group_names(kNames, "first 0 digits"), std::invalid_argument);
  EXPECT_THROW(group_names(kNames, "(unclosed"), std::invalid_argument);
}

TEST(CrossvalGroups, NeedsTwoGroupsAndOneGroupPerFrame) {
  const std::vector<LabelledFrame> frames(2);
  const std::vector<std::vector<BlobFeatures>> blobs(2);
  EXPECT_THROW(crossval_groups(frames, blobs, {}, {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(crossval_groups(frames, blobs, {}, {"a"}), std::invalid_argument);
}

}  // namespace
}  // namespace ws::inspect
