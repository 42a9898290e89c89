// Recorded-set manifests: save -> load gives back the same set, and every bad manifest is a
// ConfigError naming the manifest file, the line and the key (or the missing file and its entry).
#include "waferscan/error.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ws {
namespace {

namespace fs = std::filesystem;

class SetDir {
 public:
  SetDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    path_ = fs::temp_directory_path() / ("ws-manifest-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_ / "frames");
    for (const char* f : {"golden.png", "frames/0.png", "frames/1.png", "ref1.png", "flat.tiff"}) {
      std::ofstream(path_ / f) << "x";
    }
  }
  ~SetDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& yaml) const { std::ofstream(path_ / "manifest.yaml") << yaml; }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const char* const kGood = R"(version: 1
lot_id: L7
wafer_id: W3
wafer:
  diameter_mm: 150
  die_pitch_um: [5000, 6000]
  die_origin_um: [-100, 200]
frame:
  width: 64
  height: 48
  pixel_size_um: 2.5
golden: golden.png
flat: flat.tiff
classes: [open, short]
frames:
  - image: frames/0.png
    site: 0
    die: [1, 2]
  - image: frames/1.png
    reference: ref1.png
    site: 4
    name: edge
    die: [3, 4]
    position_um: [12.5, -7.25]
    defects:
      - {bbox: [1, 2, 3, 4], class: short}
)";

TEST(Manifest, LoadsEveryField) {
  SetDir d;
  d.write(kGood);
  const Manifest m = load_manifest(d.path());
  EXPECT_EQ(m.path, d.path() / "manifest.yaml");
  EXPECT_EQ(m.lot_id, "L7");
  EXPECT_EQ(m.wafer_id, "W3");
  EXPECT_EQ(m.wafer_diameter_mm, 150);
  EXPECT_EQ(m.die_pitch_x_um, 5000);
  EXPECT_EQ(m.die_pitch_y_um, 6000);
  EXPECT_EQ(m.die_origin_x_um, -100);
  EXPECT_EQ(m.die_origin_y_um, 200);
  EXPECT_EQ(m.frame_width, 64);
  EXPECT_EQ(m.frame_height, 48);
  EXPECT_EQ(m.pixel_size_um, 2.5);
  EXPECT_EQ(m.golden, d.path() / "golden.png");
  EXPECT_EQ(m.flat, d.path() / "flat.tiff");
  ASSERT_EQ(m.classes.size(), 2u);
  ASSERT_EQ(m.frames.size(), 2u);
  const FrameEntry& a = m.frames[0];
  EXPECT_EQ(a.image, d.path() / "frames/0.png");
  EXPECT_TRUE(a.reference.empty());
  EXPECT_EQ(a.name, "r2c1");
  EXPECT_EQ(a.die_i, 1);
  EXPECT_EQ(a.die_j, 2);
  EXPECT_EQ(a.x_um, -100 + 1.5 * 5000);  // die centre when no position is given
  EXPECT_EQ(a.y_um, 200 + 2.5 * 6000);
  EXPECT_FALSE(a.truth.has_value());
  EXPECT_EQ(a.line, 16);
  const FrameEntry& b = m.frames[1];
  EXPECT_EQ(b.site_index, 4);
  EXPECT_EQ(b.name, "edge");
  EXPECT_EQ(b.reference, d.path() / "ref1.png");
  EXPECT_EQ(b.x_um, 12.5);
  EXPECT_EQ(b.y_um, -7.25);
  ASSERT_TRUE(b.truth.has_value());
  ASSERT_EQ(b.truth->size(), 1u);
  EXPECT_EQ((*b.truth)[0].bbox, cv::Rect(1, 2, 3, 4));
  EXPECT_EQ((*b.truth)[0].class_name, "short");
}

TEST(Manifest, SaveThenLoadRoundTrips) {
  SetDir d;
  d.write(kGood);
  Manifest m = load_manifest(d.path() / "manifest.yaml");
  m.frames[0].truth = std::vector<LabelledDefect>{};  // labelled, no defects: stays labelled
  m.frames[1].x_um = 0.1 + 0.2;                       // doubles survive exactly
  fs::remove(m.path);
  save_manifest(m);
  EXPECT_FALSE(fs::exists(d.path() / "manifest.yaml.tmp"));
  std::ifstream in(d.path() / "manifest.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(d.path().string()), std::string::npos) << "paths are relative:\n" << text;

  const Manifest r = load_manifest(d.path());
  EXPECT_EQ(r.lot_id, m.lot_id);
  EXPECT_EQ(r.wafer_id, m.wafer_id);
  EXPECT_EQ(r.wafer_diameter_mm, m.wafer_diameter_mm);
  EXPECT_EQ(r.die_pitch_x_um, m.die_pitch_x_um);
  EXPECT_EQ(r.die_pitch_y_um, m.die_pitch_y_um);
  EXPECT_EQ(r.die_origin_x_um, m.die_origin_x_um);
  EXPECT_EQ(r.die_origin_y_um, m.die_origin_y_um);
  EXPECT_EQ(r.frame_width, m.frame_width);
  EXPECT_EQ(r.frame_height, m.frame_height);
  EXPECT_EQ(r.pixel_size_um, m.pixel_size_um);
  EXPECT_EQ(r.golden, m.golden);
  EXPECT_EQ(r.flat, m.flat);
  EXPECT_EQ(r.classes, m.classes);
  ASSERT_EQ(r.frames.size(), m.frames.size());
  for (std::size_t k = 0; k < r.frames.size(); ++k) {
    const FrameEntry& x = r.frames[k];
    const FrameEntry& y = m.frames[k];
    EXPECT_EQ(x.image, y.image);
    EXPECT_EQ(x.reference, y.reference);
    EXPECT_EQ(x.site_index, y.site_index);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.die_i, y.die_i);
    EXPECT_EQ(x.die_j, y.die_j);
    EXPECT_EQ(x.x_um, y.x_um);
    EXPECT_EQ(x.y_um, y.y_um);
    ASSERT_EQ(x.truth.has_value(), y.truth.has_value());
    if (x.truth) {
      ASSERT_EQ(x.truth->size(), y.truth->size());
      for (std::size_t i = 0; i < x.truth->size(); ++i) {
        EXPECT_EQ((*x.truth)[i].bbox, (*y.truth)[i].bbox);
        EXPECT_EQ((*x.truth)[i].class_name, (*y.truth)[i].class_name);
      }
    }
  }
}

// A set whose frames differ in size: a frame's own width and height load, decide its size, and
// are saved back; the other frames keep the set's.
TEST(Manifest, AFrameOfItsOwnSizeLoadsAndSavesBack) {
  SetDir d;
  std::string yaml = kGood;
  yaml.replace(yaml.find("flat: flat.tiff\n"), std::string("flat: flat.tiff\n").size(), "");
  yaml.replace(yaml.find("    name: edge\n"), std::string("    name: edge\n").size(),
               "    name: edge\n    width: 32\n    height: 40\n");
  d.write(yaml);
  const Manifest m = load_manifest(d.path());
  EXPECT_EQ(frame_size(m, m.frames[0]), cv::Size(64, 48));
  EXPECT_EQ(frame_size(m, m.frames[1]), cv::Size(32, 40));
  save_manifest(m);
  const Manifest again = load_manifest(d.path());
  EXPECT_EQ(again.frames[1].width, 32);
  EXPECT_EQ(again.frames[1].height, 40);
  EXPECT_EQ(again.frames[0].width, 0);
}

TEST(Manifest, MissingManifestNamesIt) {
  SetDir d;
  try {
    (void)load_manifest(d.path());
    FAIL() << "accepted a folder without manifest.yaml";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), (d.path() / "manifest.yaml").string());
  }
}

// A bad manifest: `edit` replaces `from` with `to` in kGood (empty `from`: the whole text).
struct BadManifest {
  std::string label;
  std::string from;
  std::string to;
  std::string key;   ///< expected ConfigError::key()
  int line;          ///< expected ConfigError::line()
  std::string says;  ///< a fragment the message must contain
};

void PrintTo(const BadManifest& c, std::ostream* os) {
  *os << c.label;
}

class ManifestErrorTest : public ::testing::TestWithParam<BadManifest> {};

TEST_P(ManifestErrorTest, NamesFileLineAndKey) {
  const BadManifest& c = GetParam();
  SetDir d;
  std::string yaml = kGood;
  if (c.from.empty()) {
    yaml = c.to;
  } else {
    const auto at = yaml.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    yaml.replace(at, c.from.size(), c.to);
  }
  d.write(yaml);
  const std::string file = (d.path() / "manifest.yaml").string();
  try {
    (void)load_manifest(d.path());
    FAIL() << "accepted:\n" << yaml;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), file) << what;
    EXPECT_EQ(e.line(), c.line) << what;
    EXPECT_EQ(e.key(), c.key) << what;
    const std::string where = c.line > 0 ? file + ":" + std::to_string(c.line) + ": " : file + ": ";
    EXPECT_NE(what.find(where), std::string::npos) << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ManifestErrorTest,
    ::testing::Values(
        BadManifest{"MalformedYaml", "frame:\n", "frame: [\n", "", 10, "malformed YAML"},
        BadManifest{"EmptyFile", "", "", "", 0, "empty manifest"},
        BadManifest{"NotAMapping", "", "- a\n- b\n", "document", 1, "expected a mapping"},
        BadManifest{"UnknownTopKey", "lot_id: L7", "lot: L7", "lot", 2, "unknown key"},
        BadManifest{"MissingVersion", "version: 1\n", "", "version", 1, "required"},
        BadManifest{"WrongVersion", "version: 1", "version: 2", "version", 1, "must be"},
        BadManifest{"NegativePitch", "[5000, 6000]", "[5000, -6]", "wafer.die_pitch_um[1]", 6,
                    "must be > 0"},
        BadManifest{"DiameterText", "diameter_mm: 150", "diameter_mm: big", "wafer.diameter_mm", 5,
                    "expected a finite number"},
        BadManifest{"MissingFrameSection",
                    "frame:\n  width: 64\n  height: 48\n  pixel_size_um: 2.5\n", "", "frame", 1,
                    "required"},
        BadManifest{"MissingWidth", "  width: 64\n", "", "frame.width", 9, "required"},
        BadManifest{"TinyHeight", "height: 48", "height: 4", "frame.height", 10, "must be in"},
        BadManifest{"GoldenMissing", "golden: golden.png", "golden: nope.png", "golden", 12,
                    "nope.png' does not exist"},
        BadManifest{"FlatMissing", "flat: flat.tiff", "flat: none.tiff", "flat", 13,
                    "none.tiff' does not exist"},
        BadManifest{"NoFrames", "frames:\n", "frames: []\nx:\n", "x", 16, "unknown key"},
        BadManifest{"EmptyFrameList", "",
                    "version: 1\nframe: {width: 64, height: 48}\nframes: []\n", "frames", 3,
                    "empty frame list"},
        BadManifest{"FramesNotAList", "", "version: 1\nframe: {width: 64, height: 48}\nframes: 3\n",
                    "frames", 3, "expected a list"},
        BadManifest{"FrameWithoutImage", "  - image: frames/0.png\n", "  - name: a\n",
                    "frames[0].image", 16, "required"},
        BadManifest{"ImageMissing", "image: frames/1.png", "image: frames/9.png", "frames[1].image",
                    19, "frames[1] (site 4): file"},
        BadManifest{"ReferenceMissing", "reference: ref1.png", "reference: ref9.png",
                    "frames[1].reference", 20, "ref9.png' does not exist"},
        BadManifest{"NoReferenceAtAll", "golden: golden.png\n", "", "frames[0].reference", 15,
                    "no reference"},
        BadManifest{"DuplicateSite", "site: 4", "site: 0", "frames[1].site", 21,
                    "duplicate site index 0"},
        BadManifest{"NegativeSite", "site: 4", "site: -1", "frames[1].site", 21, "must be in"},
        BadManifest{"DuplicateName", "name: edge", "name: r2c1", "frames[1].name", 22,
                    "duplicate frame name"},
        BadManifest{"DieNotAPair", "die: [3, 4]", "die: 3", "frames[1].die", 23, "expected [i, j]"},
        BadManifest{"UnknownFrameKey", "name: edge", "nam: edge", "frames[1].nam", 22,
                    "unknown key"},
        BadManifest{"FrameWidthWithoutHeight", "    name: edge\n",
                    "    name: edge\n    width: 32\n", "frames[1].height", 19,
                    "required with width"},
        BadManifest{"FrameSizeOfItsOwnInASetWithAFlat", "    name: edge\n",
                    "    name: edge\n    width: 32\n    height: 32\n", "frames[1].width", 23,
                    "a set with a flat field has one frame size"},
        BadManifest{"LabelsNotAList", "    defects:\n      - {bbox: [1, 2, 3, 4], class: short}\n",
                    "    defects: 3\n", "frames[1].defects", 25, "expected a list"},
        BadManifest{"BboxOutside", "bbox: [1, 2, 3, 4]", "bbox: [60, 2, 30, 4]",
                    "frames[1].defects[0].bbox", 26, "outside the 64x48 frame"},
        // found by fuzz_manifest: x + width overflowed int and the box was accepted
        BadManifest{"BboxPastIntMax", "bbox: [1, 2, 3, 4]", "bbox: [2147483647, 2, 3, 4]",
                    "frames[1].defects[0].bbox", 26, "outside the 64x48 frame"},
        BadManifest{"BboxEmpty", "bbox: [1, 2, 3, 4]", "bbox: [1, 2, 0, 4]",
                    "frames[1].defects[0].bbox", 26, "width, height > 0"},
        BadManifest{"UnknownClass", "class: short}", "class: bump}", "frames[1].defects[0].class",
                    26, "not in the manifest's classes"},
        BadManifest{"LabelWithoutClass", ", class: short}", "}", "frames[1].defects[0].class", 26,
                    "required"}),
    [](const ::testing::TestParamInfo<BadManifest>& p) { return p.param.label; });

}  // namespace
}  // namespace ws
