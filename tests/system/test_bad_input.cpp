// Pins down what the CLI does with bad input (docs/bad-input.md): a bad recipe, graph spec,
// --inject SPEC, manifest or golden image is a usage error (exit 2) whose message names the file,
// line and key or what was expected, with nothing stored; a bad frame file or per-frame reference
// is a site `error` naming the file while the run completes (exit 0).
#include "common/process.hpp"
#include "common/run_fixture.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string src(const std::string& rel) {
  return source_path(rel).string();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// ---- run RECIPE [--graph SPEC] [--inject SPEC]: refused before anything exists -----------------

const std::string kNoFile = "<no file>";

struct BadRun {
  std::string label;
  std::string recipe;  ///< recipe text written to bad.yaml; empty: quick.yaml
  std::string graph;   ///< graph text written to g.yaml; empty: graphs/inspect.yaml; kNoFile: none
  std::vector<std::string> extra;  ///< more arguments (--inject ...)
  std::vector<std::string> says;   ///< fragments stderr must contain
};

void PrintTo(const BadRun& c, std::ostream* os) {
  *os << c.label;
}

class BadRunInput : public ::testing::TestWithParam<BadRun> {
 protected:
  TempDir dir_;
};

TEST_P(BadRunInput, IsAUsageErrorSayingWhatWasExpectedAndStoresNothing) {
  const BadRun& c = GetParam();
  std::string recipe = src("data/recipes/quick.yaml");
  std::string graph = src("graphs/inspect.yaml");
  if (!c.recipe.empty()) {
    recipe = (dir_.path() / "bad.yaml").string();
    write_text(recipe, c.recipe);
  }
  if (!c.graph.empty()) {
    graph = (dir_.path() / "g.yaml").string();
    if (c.graph != kNoFile) write_text(graph, c.graph);
  }
  const fs::path db = dir_.path() / "runs.db";
  std::vector<std::string> args{"run",       recipe,         "--graph", graph,    "--db",
                                db.string(), "--time-scale", "0",       "--quiet"};
  args.insert(args.end(), c.extra.begin(), c.extra.end());
  const auto r = run_cli(args, dir_.path(), std::chrono::seconds(30));
  EXPECT_EQ(r.code, 2) << r.err;
  for (const std::string& s : c.says)
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
  EXPECT_FALSE(fs::exists(db)) << "nothing may be stored for refused input";
}

const std::string kSite = "sites:\n  - {die: [9, 9]}\n";
const std::string kModel = "model: " + src("data/models/sim.json") + "\n";

INSTANTIATE_TEST_SUITE_P(
    Cli, BadRunInput,
    ::testing::Values(
        // recipes
        BadRun{"RecipeNameNotUtf8",
               "recipe: caf\xE9\n" + kSite + kModel,
               "",
               {},
               {"bad.yaml:1: recipe: is not valid UTF-8 (byte 0xE9 at column 12): the file must "
                "be UTF-8 text"}},
        BadRun{"SiteNameNotUtf8",
               "recipe: a\nsites:\n  - {die: [9, 9], name: r\xFF}\n" + kModel,
               "",
               {},
               {"bad.yaml:3: name: is not valid UTF-8 (byte 0xFF at column 26)"}},
        BadRun{"RecipeEmpty", "# nothing\n", "", {}, {"bad.yaml: empty recipe"}},
        BadRun{"RecipeMalformedYaml",
               "recipe: a\nseed: 1: 2\n" + kSite,
               "",
               {},
               {"bad.yaml:2: malformed YAML"}},
        BadRun{"RecipeUnknownKey",
               "recipe: a\nseeed: 3\n" + kSite,
               "",
               {},
               {"bad.yaml:2: seeed: unknown key (expected one of: recipe, seed,"}},
        BadRun{"RecipeWrongType",
               "camera:\n  width: wide\n" + kSite,
               "",
               {},
               {"bad.yaml:2: camera.width: expected an integer, got 'wide'"}},
        BadRun{"RecipeOutOfRange",
               "camera: {width: 8}\n" + kSite,
               "",
               {},
               {"bad.yaml:1: camera.width: must be in [16, 16384], got 8"}},
        BadRun{"RecipeDieOutsideTravel",
               "stage: {travel_um: {x: [-5000, 5000], y: [-5000, 5000]}, park_um: [0, 0]}\n"
               "sites:\n  - {die: [0, 0]}\n  - {die: [1, 0]}\n",
               "",
               {},
               {"bad.yaml:4: sites[1].die: site 'r0c1' at", "outside the stage travel"}},
        BadRun{"RecipeWithoutModel", kSite, "", {}, {"bad.yaml: model: the recipe names no"}},
        BadRun{"RecipeModelMissing",
               kSite + "model: no-such-model.json\n",
               "",
               {},
               {"no-such-model.json"}},
        BadRun{"RecipeFaultMalformed",
               kSite + kModel + "faults: [camera.grab=hang@site:0]\n",
               "",
               {},
               {"bad.yaml:4: faults[0]: bad fault spec 'camera.grab=hang@site:0': unknown "
                "target 'camera.grab'; expected one of camera.capture"}},
        BadRun{"RecipeFaultSitePastTheLast",
               kSite + kModel + "faults: [camera.capture=hang@site:1]\n",
               "",
               {},
               {"faults[0]: site:1 is not a site of this recipe: it has 1 sites"}},
        // graph specs
        BadRun{"GraphMissingInFlight",
               "",
               "graph: g\nnodes: {}\n",
               {},
               {"g.yaml:1: in_flight: required: the cap on frames in the graph (1..1024)"}},
        BadRun{"GraphUnknownNode",
               "",
               "in_flight: 2\nnodes:\n  publish: {concurrency: 1}\n",
               {},
               {"g.yaml:3: nodes.publish: unknown key (expected one of: preprocess, detect, "
                "classify)"}},
        BadRun{"GraphMissingFile", "", kNoFile, {}, {"g.yaml: cannot open file"}},
        BadRun{"GraphEmpty", "", "# nothing\n", {}, {"g.yaml: empty graph spec"}},
        BadRun{"GraphMalformedYaml", "", "in_flight: [2\n", {}, {"g.yaml:", "malformed YAML"}},
        BadRun{"GraphOutOfRange",
               "",
               "in_flight: 4\nnodes: {detect: {concurrency: 65}}\n",
               {},
               {"g.yaml:2: nodes.detect.concurrency: must be in [0, 64], got 65"}},
        // --inject SPEC
        BadRun{"InjectNoWhen",
               "",
               "",
               {"--inject", "camera.capture=hang"},
               {"--inject: bad fault spec 'camera.capture=hang': expected "
                "TARGET=BEHAVIOUR@WHEN (e.g. camera.capture=hang@site:3)"}},
        BadRun{"InjectUnknownTarget",
               "",
               "",
               {"--inject", "camera.grab=hang@site:3"},
               {"unknown target 'camera.grab'; expected one of camera.capture, camera.abort"}},
        BadRun{"InjectUnknownBehaviour",
               "",
               "",
               {"--inject", "camera.capture=freeze@site:3"},
               {"unknown behaviour 'freeze' for camera.capture; expected one of hang, slow:MS, "
                "error, ignore_abort"}},
        BadRun{"InjectBehaviourForOtherTarget",
               "",
               "",
               {"--inject", "machine.estop=hang@site:3"},
               {"'hang' is for device calls; machine.estop expects 'fire' (or 'error')"}},
        BadRun{"InjectUnknownWhen",
               "",
               "",
               {"--inject", "camera.capture=hang@die:3"},
               {"unknown WHEN 'die:3'; expected site:N (0-based site index), call:N"}},
        BadRun{"InjectSitePastTheLast",
               "",
               "",
               {"--inject", "camera.capture=error@site:12"},
               {"--inject: camera.capture=error@site:12: site 12 is not a site of this recipe: it "
                "has 12 sites, numbered from 0"}},
        BadRun{"InjectBadWhenArgument",
               "",
               "",
               {"--inject", "stage.move=error@call:1", "--inject", "stage.move=error@p:1.5"},
               {"expected p:P with P a probability in (0, 1], got 'p:1.5'"}}),
    [](const ::testing::TestParamInfo<BadRun>& p) { return p.param.label; });

// ---- reprocess SET: a small recorded set, then one thing broken ---------------------------------

constexpr int kSize = 64;
constexpr int kFrames = 8;

/// A reference-like 8-bit grey image: a grid of lines on a flat background.
cv::Mat pattern() {
  cv::Mat m(kSize, kSize, CV_8UC1, cv::Scalar(90));
  for (int k = 4; k < kSize; k += 16) {
    m.row(k).setTo(170);
    m.col(k).setTo(170);
  }
  return m;
}

/// dir/set: manifest.yaml, golden.png and frames/K.png (identical to the golden) for kFrames dies.
fs::path make_set(const fs::path& dir) {
  const fs::path set = dir / "set";
  fs::create_directories(set / "frames");
  cv::imwrite((set / "golden.png").string(), pattern());
  std::string yaml =
      "version: 1\nframe: {width: 64, height: 64, pixel_size_um: 5}\ngolden: golden.png\n"
      "frames:\n";
  for (int k = 0; k < kFrames; ++k) {
    const std::string name = "frames/" + std::to_string(k) + ".png";
    cv::imwrite((set / name).string(), pattern());
    yaml += "  - {image: " + name + ", site: " + std::to_string(k) + ", die: [" +
            std::to_string(k) + ", 0]}\n";
  }
  write_text(set / "manifest.yaml", yaml);
  return set;
}

/// The first bytes of a PNG, up to its IHDR chunk: all that the header check reads.
std::string png_header(std::uint32_t width, std::uint32_t height) {
  std::string b = "\x89PNG\r\n\x1a\n";
  const auto be32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<char>((v >> shift) & 255));
  };
  be32(13);
  b += "IHDR";
  be32(width);
  be32(height);
  b += std::string("\x08\x00\x00\x00\x00", 5);
  be32(0);  // CRC: never reached
  return b + std::string(16, '\0');
}

// The ways an image file goes bad; each returns a fragment of the reason it must get.
struct BadImage {
  std::string label;
  std::function<void(const fs::path&)> spoil;
  std::string says;
};

void PrintTo(const BadImage& c, std::ostream* os) {
  *os << c.label;
}

const std::vector<BadImage>& bad_images() {
  static const std::vector<BadImage> kinds = {
      {"ZeroBytes", [](const fs::path& p) { write_text(p, ""); }, "is empty (0 bytes)"},
      {"Truncated", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) / 2); },
       "is not a decodable image"},
      {"NotAnImage", [](const fs::path& p) { write_text(p, "this is not a PNG\n"); },
       "is not a decodable image"},
      {"WrongSize",
       [](const fs::path& p) { cv::imwrite(p.string(), cv::Mat(32, 48, CV_8UC1, cv::Scalar(9))); },
       "is 48x32, expected 64x64"},
      {"FloatingPoint",  // a 32-bit float TIFF under the frame's name: no rule makes it grey
       [](const fs::path& p) {
         std::vector<uchar> bytes;
         ASSERT_TRUE(
             cv::imencode(".tiff", cv::Mat(kSize, kSize, CV_32FC1, cv::Scalar(0.5)), bytes));
         std::ofstream(p, std::ios::binary)
             .write(reinterpret_cast<const char*>(bytes.data()),
                    static_cast<std::streamsize>(bytes.size()));
       },
       "is not an 8- or 16-bit image of 1 to 4 channels"},
      {"HugeHeader",  // 60 bytes claiming 30000 x 30000 pixels: refused from its header
       [](const fs::path& p) { write_text(p, png_header(30000, 30000)); },
       "declares 30000x30000 (900000000 pixels) in its header; the limit is 268435456 pixels"},
  };
  return kinds;
}

class BadSet : public ::testing::Test {
 protected:
  void SetUp() override { set_ = make_set(dir_.path()); }

  [[nodiscard]] std::string db() const { return (dir_.path() / "runs.db").string(); }

  CliResult reprocess() {
    return run_cli({"reprocess", set_.string(), "--graph", src("graphs/inspect.yaml"), "--model",
                    src("data/models/sim.json"), "--db", db(), "--quiet"},
                   dir_.path(), std::chrono::seconds(60));
  }

  void expect_refused(const std::vector<std::string>& says) {
    const auto r = reprocess();
    EXPECT_EQ(r.code, 2) << r.err;
    for (const std::string& s : says)
      EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
    EXPECT_FALSE(fs::exists(db())) << "nothing may be stored for a refused set";
  }

  TempDir dir_;
  fs::path set_;
};

TEST_F(BadSet, TheIntactSetCompletes) {
  const auto r = reprocess();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find(std::to_string(kFrames) + "/" + std::to_string(kFrames) + " sites done"),
            std::string::npos)
      << r.err;
}

TEST_F(BadSet, MalformedManifestIsRefusedWithItsLine) {
  write_text(set_ / "manifest.yaml", "version: 1\nframe: {width: 64, height: 64\ngolden: x\n");
  expect_refused({(set_ / "manifest.yaml").string() + ":", "malformed YAML"});
}

TEST_F(BadSet, UnknownManifestKeyIsRefusedNamingIt) {
  std::ifstream in(set_ / "manifest.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_text(set_ / "manifest.yaml", "lot: L1\n" + text);
  expect_refused({"manifest.yaml:1: lot: unknown key (expected one of: version,"});
}

TEST_F(BadSet, MissingManifestIsRefusedNamingIt) {
  fs::remove(set_ / "manifest.yaml");
  expect_refused({(set_ / "manifest.yaml").string() + ": cannot open file"});
}

// A missing golden or frame file: ReprocessCli.BadManifestExitsTwoBeforeAnythingRuns.

TEST_F(BadSet, FlatFieldThatIsNotAFloatImageIsRefused) {
  cv::imwrite((set_ / "flat.png").string(), pattern());  // 8-bit, not 32-bit float
  std::ifstream in(set_ / "manifest.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_text(set_ / "manifest.yaml", "flat: flat.png\n" + text);
  expect_refused({"manifest.yaml: flat: flat-field image '" + (set_ / "flat.png").string() +
                  "' is not 32-bit float, one channel (OpenCV type 0)"});
}

// A flat field divides the frame: zeros, NaN, infinities and negatives are refused when the set is
// opened, naming the flat and the value (not a failure of every site's alignment).
TEST_F(BadSet, AFlatFieldOfZerosNaNInfinityOrNegativesIsRefusedNamingTheValue) {
  std::ifstream in(set_ / "manifest.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_text(set_ / "manifest.yaml", "flat: flat.tiff\n" + text);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& [value, says] : std::vector<std::pair<float, std::string>>{
           {0.0F, "holds 0.000000 at x=0, y=0"},
           {nan, "holds a value that is not finite (NaN or infinity) at x=3, y=2"},
           {inf, "holds a value that is not finite (NaN or infinity) at x=3, y=2"},
           {-1.0F, "holds -1.000000 at x=3, y=2"}}) {
    cv::Mat flat(kSize, kSize, CV_32FC1, cv::Scalar(1.0));
    if (value == 0.0F) {
      flat.setTo(0.0F);
    } else {
      flat.at<float>(2, 3) = value;  // row 2, column 3
    }
    ASSERT_TRUE(cv::imwrite((set_ / "flat.tiff").string(), flat));
    expect_refused(
        {"manifest.yaml: flat: flat-field image '" + (set_ / "flat.tiff").string() + "' ", says});
  }
}

// A frame path that names a FIFO or a folder is refused as what it is, not "does not exist", and
// the FIFO is never opened (opening it would wait for a writer forever).
TEST_F(BadSet, AFrameThatIsAFifoOrAFolderIsRefusedAsSuch) {
  const fs::path frame = set_ / "frames" / "1.png";
  for (const auto& [make, says] : std::vector<std::pair<std::function<void()>, std::string>>{
           {[&] { ASSERT_EQ(::mkfifo(frame.c_str(), 0600), 0); },
            "is a FIFO (named pipe), not a file"},
           {[&] { fs::create_directory(frame); }, "is a directory, not a file"}}) {
    fs::remove(frame);
    make();
    expect_refused({"manifest.yaml:6: frames[1].image: frames[1] (site 1): file '" +
                    frame.string() + "' " + says});
  }
}

class BadGolden : public BadSet, public ::testing::WithParamInterface<BadImage> {};

TEST_P(BadGolden, IsRefusedBeforeTheRunNamingTheFile) {
  GetParam().spoil(set_ / "golden.png");
  expect_refused(
      {"manifest.yaml: golden: golden reference '" + (set_ / "golden.png").string() + "'",
       GetParam().says});
}

INSTANTIATE_TEST_SUITE_P(Cli, BadGolden, ::testing::ValuesIn(bad_images()),
                         [](const ::testing::TestParamInfo<BadImage>& p) { return p.param.label; });

TEST_F(BadSet, EachBadFrameIsASiteErrorNamingTheFileAndTheRunCompletes) {
  const auto& kinds = bad_images();
  ASSERT_LT(kinds.size(), static_cast<std::size_t>(kFrames)) << "site 0 stays good";
  std::map<int, const BadImage*> spoiled;  // site -> how its frame was spoiled
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const int site = static_cast<int>(k) + 1;
    kinds[k].spoil(set_ / "frames" / (std::to_string(site) + ".png"));
    spoiled[site] = &kinds[k];
  }
  // The last site gets a per-frame reference that is not an image.
  constexpr int kBadReference = kFrames - 1;
  ASSERT_EQ(spoiled.count(kBadReference), 0u);
  write_text(set_ / "bad_ref.png", "not a PNG either");
  std::ifstream in(set_ / "manifest.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string entry = "site: " + std::to_string(kBadReference) + ",";
  ASSERT_NE(yaml.find(entry), std::string::npos);
  yaml.replace(yaml.find(entry), entry.size(), "reference: bad_ref.png, " + entry);
  write_text(set_ / "manifest.yaml", yaml);

  const auto r = reprocess();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("error " + std::to_string(kinds.size() + 1)), std::string::npos) << r.err;

  const auto e = run_cli({"export", "1", "--format", "json", "--db", db()}, dir_.path());
  ASSERT_EQ(e.code, 0) << e.err;
  const json out = json::parse(e.out);
  EXPECT_EQ(out["run"]["state"], "Completed");
  ASSERT_EQ(out["sites"].size(), static_cast<std::size_t>(kFrames));
  for (const json& s : out["sites"]) {
    const int index = s["index"].get<int>();
    if (index == kBadReference) {
      EXPECT_EQ(s["status"], "error") << s.dump();
      EXPECT_NE(s.value("reason", "")
                    .find("frame " + std::to_string(index) + ".png: reference file '" +
                          (set_ / "bad_ref.png").string() + "' is not a decodable image"),
                std::string::npos)
          << s.dump();
      continue;
    }
    const auto it = spoiled.find(index);
    if (it == spoiled.end()) {
      EXPECT_EQ(s["status"], "done") << s.dump();
      continue;
    }
    EXPECT_EQ(s["status"], "error") << s.dump();
    const std::string reason = s.value("reason", "");
    const fs::path frame = set_ / "frames" / (std::to_string(index) + ".png");
    EXPECT_NE(reason.find("frame file '" + frame.string() + "'"), std::string::npos) << reason;
    EXPECT_NE(reason.find(it->second->says), std::string::npos)
        << it->second->label << ": " << reason;
    EXPECT_TRUE(s["defects"].empty());
  }
}

// ---- text inputs are bounded: a device, a folder, a FIFO or an oversized file
// --------------------

TEST(BoundedInput, ARecipeThatIsNotARegularFileIsNamedAsWhatItIs) {
  TempDir dir;
  const fs::path fifo = dir.path() / "fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directory(dir.path() / "folder.yaml");
  for (const auto& [recipe, says] : std::vector<std::pair<std::string, std::string>>{
           {"/dev/zero", "/dev/zero: cannot open file: it is a character device, not a file"},
           {fifo.string(), "fifo.yaml: cannot open file: it is a FIFO (named pipe), not a file"},
           {(dir.path() / "folder.yaml").string(),
            "folder.yaml: cannot open file: it is a directory, not a file"}}) {
    const fs::path db = dir.path() / "runs.db";
    const auto r = run_cli({"run", recipe, "--db", db.string(), "--time-scale", "0", "--quiet"},
                           dir.path(), std::chrono::seconds(30));
    EXPECT_EQ(r.code, 2) << recipe << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(db));
  }
}

// The text limit is read from WAFERSCAN_MAX_TEXT_BYTES; a recipe over it is refused saying the
// limit and how to raise it, and a bad value of the variable is itself named.
TEST(BoundedInput, ARecipeOverTheTextLimitIsRefusedSayingTheLimit) {
  TempDir dir;
  const std::string recipe = src("data/recipes/quick.yaml");
  const auto size = fs::file_size(recipe);
  ASSERT_GT(size, 100u);
  struct Env {
    explicit Env(const char* v) { ::setenv("WAFERSCAN_MAX_TEXT_BYTES", v, 1); }
    ~Env() { ::unsetenv("WAFERSCAN_MAX_TEXT_BYTES"); }
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;
  };
  const std::vector<std::string> args{
      "run", recipe, "--db", (dir.path() / "runs.db").string(), "--time-scale", "0", "--quiet"};
  {
    const Env env("100");
    const auto r = run_cli(args, dir.path(), std::chrono::seconds(30));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("quick.yaml: is " + std::to_string(size) +
                         " bytes; the limit is 100 bytes (WAFERSCAN_MAX_TEXT_BYTES raises it)"),
              std::string::npos)
        << r.err;
  }
  {
    const Env env("lots");
    const auto r = run_cli(args, dir.path(), std::chrono::seconds(30));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("environment variable WAFERSCAN_MAX_TEXT_BYTES: expected a positive "
                         "integer, got 'lots'"),
              std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "runs.db"));
}

}  // namespace
}  // namespace ws::testing
