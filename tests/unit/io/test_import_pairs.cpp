// import_pairs: a folder of NAME_test/NAME_temp images with optional labels becomes a manifest with
// per-frame references and named truth; bad input is a ConfigError naming the file and line, and
// leaves no set behind.
#include "io/import_pairs.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ws::io {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kClasses{"open", "short", "mousebite", "spur", "copper", "pin-hole"};

class ImportPairs : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            (std::string("ws_import_") + info->test_suite_name() + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(in());
  }
  void TearDown() override { fs::remove_all(root_); }
  [[nodiscard]] fs::path in() const { return root_ / "pairs"; }
  [[nodiscard]] fs::path out() const { return root_ / "set"; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(in() / name) << text;
  }
  void pair(const std::string& name) const {
    write(name + "_test.jpg", "test image bytes");
    write(name + "_temp.jpg", "template image bytes");
  }
  fs::path root_;
};

TEST_F(ImportPairs, FramesReferencesAndTruth) {
  pair("b2");
  pair("a1");
  write("a1.txt", "10 20 50 60 1\n\n100 100 130 140 6\n");
  const Manifest m = import_pairs(in(), out(), kClasses);
  ASSERT_EQ(m.frames.size(), 2u);
  EXPECT_EQ(m.classes, kClasses);
  EXPECT_EQ(m.frames[0].name, "a1");  // name order, whatever the directory order
  EXPECT_EQ(m.frames[1].name, "b2");
  EXPECT_EQ(m.frames[0].site_index, 0);
  EXPECT_EQ(m.frames[1].site_index, 1);
  EXPECT_TRUE(fs::exists(m.frames[0].image));
  EXPECT_TRUE(fs::exists(m.frames[0].reference));
  EXPECT_EQ(m.frames[0].reference.filename(), "a1_temp.jpg");
  ASSERT_TRUE(m.frames[0].truth.has_value());
  ASSERT_EQ(m.frames[0].truth->size(), 2u);
  EXPECT_EQ((*m.frames[0].truth)[0].bbox, cv::Rect(10, 20, 40, 40));
  EXPECT_EQ((*m.frames[0].truth)[0].class_name, "open");
  EXPECT_EQ((*m.frames[0].truth)[1].class_name, "pin-hole");
  EXPECT_FALSE(m.frames[1].truth.has_value());  // no labels file: not labelled
}

// record_frame_sizes: the set's size is the first test image's; another size is the frame's own;
// a box outside its frame names the labels file.
TEST_F(ImportPairs, FrameSizesAreRecordedAndBoxesCheckedAgainstThem) {
  for (const auto& [name, size] :
       {std::pair{"a", cv::Size(64, 48)}, std::pair{"b", cv::Size(40, 30)},
        std::pair{"c", cv::Size(64, 48)}}) {
    const cv::Mat img(size, CV_8UC1, cv::Scalar(100));
    ASSERT_TRUE(cv::imwrite((in() / (std::string(name) + "_test.png")).string(), img));
    ASSERT_TRUE(cv::imwrite((in() / (std::string(name) + "_temp.png")).string(), img));
  }
  write("b.txt", "0 0 40 30 1\n");  // the whole of b's own 40x30 frame
  Manifest m = import_pairs(in(), out(), kClasses);
  record_frame_sizes(m, in());
  EXPECT_EQ(cv::Size(m.frame_width, m.frame_height), cv::Size(64, 48));
  EXPECT_EQ(m.frames[0].width, 0);
  EXPECT_EQ(m.frames[1].width, 40);
  EXPECT_EQ(m.frames[1].height, 30);
  EXPECT_EQ(m.frames[2].width, 0);

  write("b.txt", "0 0 41 30 1\n");  // one column past b's frame (inside the set's size)
  fs::remove_all(out());
  Manifest again = import_pairs(in(), out(), kClasses);
  try {
    record_frame_sizes(again, in());
    FAIL() << "a box outside its frame was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), (in() / "b.txt").string());
    EXPECT_NE(std::string(e.what()).find("outside the 40x30 frame"), std::string::npos) << e.what();
  }
}

TEST_F(ImportPairs, ClassNamesComeFromTheCaller) {
  pair("x");
  write("x.txt", "0 0 5 5 2\n");
  const Manifest m = import_pairs(in(), out(), {"particle", "scratch"});
  EXPECT_EQ((*m.frames[0].truth)[0].class_name, "scratch");
}

struct BadInput {
  std::string what;
  std::vector<std::pair<std::string, std::string>> files;  // name, contents
  std::string file_in_message;
  int line;
};

class ImportPairsBad : public ImportPairs, public ::testing::WithParamInterface<BadInput> {};

TEST_P(ImportPairsBad, ConfigErrorNamingFileAndLine) {
  for (const auto& [name, text] : GetParam().files) write(name, text);
  try {
    import_pairs(in(), out(), kClasses);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().file_in_message), std::string::npos)
        << e.what();
    EXPECT_EQ(e.line(), GetParam().line) << e.what();
  }
  EXPECT_FALSE(fs::exists(out() / "frames")) << "a failed import must leave no set";
}

INSTANTIATE_TEST_SUITE_P(
    Import, ImportPairsBad,
    ::testing::Values(
        BadInput{"no_pairs", {{"readme.txt", "hello"}}, "pairs", 0},
        BadInput{"test_without_template", {{"a_test.jpg", "x"}}, "a_test.jpg", 0},
        BadInput{"template_without_test", {{"a_temp.jpg", "x"}}, "a_temp.jpg", 0},
        BadInput{"four_fields",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "1 2 3 4 1\n1 2 3 4\n"}},
                 "a.txt",
                 2},
        BadInput{"not_a_number",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "1 2 x 4 1\n"}},
                 "a.txt",
                 1},
        BadInput{"six_fields",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "1 2 3 4 1 7\n"}},
                 "a.txt",
                 1},
        BadInput{"empty_box",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "\n\n5 5 5 9 1\n"}},
                 "a.txt",
                 3},
        BadInput{"class_out_of_range",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "1 2 3 4 7\n"}},
                 "a.txt",
                 1},
        BadInput{"class_zero",
                 {{"a_test.jpg", "x"}, {"a_temp.jpg", "x"}, {"a.txt", "1 2 3 4 0\n"}},
                 "a.txt",
                 1}),
    [](const auto& p) { return p.param.what; });

TEST_F(ImportPairs, AFileNameThatIsNotUtf8IsRefusedNamingIt) {
  pair("a");
  pair("caf\xE9");
  try {
    import_pairs(in(), out(), kClasses);
    FAIL() << "imported a site named by bytes that are not UTF-8";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.file().find("caf\xE9_te"), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find("its name is not valid UTF-8"), std::string::npos) << e.what();
  }
}

TEST_F(ImportPairs, RefusesANonEmptyOutput) {
  pair("a");
  fs::create_directories(out());
  std::ofstream(out() / "keep") << "x";
  EXPECT_THROW(check_import_target(out()), ConfigError);
  EXPECT_TRUE(fs::exists(out() / "keep"));
  fs::remove(out() / "keep");
  EXPECT_NO_THROW(check_import_target(out())) << "an empty folder may receive the set";
}

TEST_F(ImportPairs, RefusesBadClassLists) {
  pair("a");
  EXPECT_THROW(import_pairs(in(), out(), {}), ConfigError);
  EXPECT_THROW(import_pairs(in(), out(), {"a", "a"}), ConfigError);
  EXPECT_THROW(import_pairs(in(), out(), {"a", ""}), ConfigError);
}

}  // namespace
}  // namespace ws::io
