// Classifier (LDA and decision tree alike): deterministic training, lossless save/load, sensible
// predictions, and bad model files rejected with a ConfigError naming the file and key.
#include "classify/features.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace ws::classify {
namespace {

namespace fs = std::filesystem;

struct Examples {
  std::vector<BlobFeatures> features;
  std::vector<std::string> labels;
};

// Three well-separated synthetic classes, drawn from a fixed seed.
Examples make_examples(int per_class, std::uint64_t seed) {
  cv::RNG rng(seed);
  Examples ex;
  for (int i = 0; i < per_class; ++i) {
    BlobFeatures particle;  // small, round, bright, strong
    const int ps = rng.uniform(3, 6);
    particle.bbox = {rng.uniform(0, 900), rng.uniform(0, 900), ps, ps};
    particle.area_px = ps * ps - rng.uniform(0, 3);
    particle.elongation = 1.0 + rng.uniform(0.0, 0.3);
    particle.fill = static_cast<double>(particle.area_px) / (ps * ps);
    particle.polarity = Polarity::bright;
    particle.contrast = rng.uniform(60.0, 120.0);
    particle.max_contrast = particle.contrast + rng.uniform(5.0, 40.0);
    ex.features.push_back(particle);
    ex.labels.emplace_back("particle");

    BlobFeatures scratch;  // long, thin, dark
    const int len = rng.uniform(30, 120);
    scratch.bbox = {rng.uniform(0, 800), rng.uniform(0, 800), rng.uniform(2, 4), len};
    scratch.area_px = scratch.bbox.area() - rng.uniform(0, 5);
    scratch.elongation = len / 2.0 + rng.uniform(0.0, 5.0);
    scratch.fill = static_cast<double>(scratch.area_px) / scratch.bbox.area();
    scratch.polarity = Polarity::dark;
    scratch.contrast = rng.uniform(30.0, 70.0);
    scratch.max_contrast = scratch.contrast + rng.uniform(5.0, 30.0);
    ex.features.push_back(scratch);
    ex.labels.emplace_back("scratch");

    BlobFeatures residue;  // large, irregular, faint
    const int rs = rng.uniform(20, 60);
    residue.bbox = {rng.uniform(0, 800), rng.uniform(0, 800), rs, rs + rng.uniform(-5, 5)};
    residue.fill = rng.uniform(0.3, 0.6);
    residue.area_px = static_cast<int>(residue.fill * residue.bbox.area());
    residue.elongation = 1.0 + rng.uniform(0.0, 0.8);
    residue.polarity = rng.uniform(0, 2) == 0 ? Polarity::dark : Polarity::bright;
    residue.contrast = rng.uniform(22.0, 35.0);
    residue.max_contrast = residue.contrast + rng.uniform(5.0, 20.0);
    ex.features.push_back(residue);
    ex.labels.emplace_back("residue");
  }
  return ex;
}

std::vector<Defect> as_defects(const std::vector<BlobFeatures>& features) {
  std::vector<Defect> defects;
  for (const BlobFeatures& f : features) defects.push_back(Defect{0, f, {}, 0});
  return defects;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(WS_BINARY_DIR) / "test_classify_tmp" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

class ClassifierMethod : public ClassifierTest, public ::testing::WithParamInterface<Method> {
 protected:
  // Features that mean something on the synthetic examples: a tree with a low min_leaf.
  static TrainOptions options() {
    TrainOptions o;
    o.method = GetParam();
    o.tree_max_depth = 6;
    o.tree_min_leaf = 2;
    o.forest_trees = 16;
    return o;
  }
};

TEST_P(ClassifierMethod, ClassNamesComeFromTheTrainingLabels) {
  const Examples ex = make_examples(10, 1);
  const Classifier c = Classifier::train(ex.features, ex.labels, options());
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"particle", "residue", "scratch"}));
}

TEST_P(ClassifierMethod, SeparatesWellSeparatedClasses) {
  const Examples train = make_examples(40, 2);
  const Examples test = make_examples(20, 3);
  const Classifier c = Classifier::train(train.features, train.labels, options());
  std::vector<Defect> defects = as_defects(test.features);
  c.classify(defects);
  int correct = 0;
  for (std::size_t i = 0; i < defects.size(); ++i) {
    EXPECT_GE(defects[i].confidence, 1.0 / 3.0);
    EXPECT_LE(defects[i].confidence, 1.0);
    correct += defects[i].class_name == test.labels[i] ? 1 : 0;
  }
  EXPECT_GE(correct, static_cast<int>(defects.size()) * 95 / 100);
  EXPECT_EQ(c.method(), GetParam());
}

TEST_P(ClassifierMethod, TrainingIsDeterministic) {
  const Examples ex = make_examples(30, 4);
  const Examples probe = make_examples(10, 5);
  const Classifier a = Classifier::train(ex.features, ex.labels, options());
  const Classifier b = Classifier::train(ex.features, ex.labels, options());
  std::vector<Defect> da = as_defects(probe.features);
  std::vector<Defect> db = da;
  a.classify(da);
  b.classify(db);
  for (std::size_t i = 0; i < da.size(); ++i) {
    EXPECT_EQ(da[i].class_name, db[i].class_name);
    EXPECT_EQ(da[i].confidence, db[i].confidence);  // bit-identical, not just close
  }
  a.save(dir_ / "a.json");
  b.save(dir_ / "b.json");
  EXPECT_EQ(read_text(dir_ / "a.json"), read_text(dir_ / "b.json"));
}

TEST_P(ClassifierMethod, SaveLoadRoundTripKeepsPredictionsAndFile) {
  const Examples ex = make_examples(30, 6);
  const Examples probe = make_examples(10, 7);
  const Classifier trained = Classifier::train(ex.features, ex.labels, options());
  trained.save(dir_ / "model.json");
  const Classifier loaded = Classifier::load(dir_ / "model.json");
  EXPECT_EQ(loaded.class_names(), trained.class_names());
  std::vector<Defect> dt = as_defects(probe.features);
  std::vector<Defect> dl = dt;
  trained.classify(dt);
  loaded.classify(dl);
  for (std::size_t i = 0; i < dt.size(); ++i) {
    EXPECT_EQ(dt[i].class_name, dl[i].class_name);
    EXPECT_EQ(dt[i].confidence, dl[i].confidence);
  }
  loaded.save(dir_ / "again.json");
  EXPECT_EQ(read_text(dir_ / "model.json"), read_text(dir_ / "again.json"));
}

TEST_P(ClassifierMethod, ExampleOrderDoesNotChangeTheModel) {
  const Examples ex = make_examples(30, 10);
  Examples reversed{{ex.features.rbegin(), ex.features.rend()},
                    {ex.labels.rbegin(), ex.labels.rend()}};
  Classifier::train(ex.features, ex.labels, options()).save(dir_ / "a.json");
  Classifier::train(reversed.features, reversed.labels, options()).save(dir_ / "b.json");
  if (GetParam() == Method::lda) {
    // Sums in another order may differ in the last bits; the predictions may not.
    const Examples probe = make_examples(10, 11);
    std::vector<Defect> da = as_defects(probe.features);
    std::vector<Defect> db = da;
    Classifier::load(dir_ / "a.json").classify(da);
    Classifier::load(dir_ / "b.json").classify(db);
    for (std::size_t i = 0; i < da.size(); ++i) EXPECT_EQ(da[i].class_name, db[i].class_name);
  } else {
    EXPECT_EQ(read_text(dir_ / "a.json"), read_text(dir_ / "b.json"));
  }
}

TEST_P(ClassifierMethod, TrainOptionsTrainTheSameModelAgain) {
  const Examples ex = make_examples(30, 12);
  const Classifier a = Classifier::train(ex.features, ex.labels, options());
  a.save(dir_ / "a.json");
  Classifier::train(ex.features, ex.labels, Classifier::load(dir_ / "a.json").train_options())
      .save(dir_ / "b.json");
  EXPECT_EQ(read_text(dir_ / "a.json"), read_text(dir_ / "b.json"));
}

TEST_P(ClassifierMethod, RejectClassIsLearntThenDropped) {
  // "residue" plays the blobs that are no defect.
  const Examples ex = make_examples(30, 13);
  TrainOptions o = options();
  o.reject_label = "residue";
  const Classifier c = Classifier::train(ex.features, ex.labels, o);
  EXPECT_EQ(c.reject_class(), "residue");
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"particle", "residue", "scratch"}));
  const Examples probe = make_examples(10, 14);  // particle, scratch, residue, particle, ...
  std::vector<Defect> defects = as_defects(probe.features);
  for (std::size_t i = 0; i < defects.size(); ++i) defects[i].id = static_cast<int>(i);
  c.classify(defects);
  ASSERT_GE(defects.size(), 18u);  // 20 particles and scratches, give or take a mistake
  ASSERT_LE(defects.size(), 22u);
  int kept_residue = 0;
  for (std::size_t i = 0; i < defects.size(); ++i) {
    EXPECT_NE(defects[i].class_name, "residue");
    if (i > 0) {
      EXPECT_LT(defects[i - 1].id, defects[i].id);  // order kept
    }
    kept_residue += probe.labels[static_cast<std::size_t>(defects[i].id)] == "residue" ? 1 : 0;
  }
  EXPECT_LE(kept_residue, 1);
  c.save(dir_ / "m.json");
  EXPECT_EQ(Classifier::load(dir_ / "m.json").reject_class(), "residue");
  EXPECT_EQ(Classifier::load(dir_ / "m.json").train_options().reject_label, "residue");
  // No example with the label: nothing to reject.
  o.reject_label = "dust";
  EXPECT_TRUE(Classifier::train(ex.features, ex.labels, o).reject_class().empty());
}

INSTANTIATE_TEST_SUITE_P(Methods, ClassifierMethod,
                         ::testing::Values(Method::lda, Method::tree, Method::forest),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_F(ClassifierTest, RejectsMismatchedTrainingInput) {
  const Examples ex = make_examples(3, 8);
  EXPECT_THROW(Classifier::train(ex.features, {"particle"}), std::invalid_argument);
  EXPECT_THROW(Classifier::train({}, {}), std::invalid_argument);
}

// A bad model file and the key its ConfigError must name.
struct BadModel {
  std::string name;
  std::string text;  // whole file contents, or "replace:FIELD=>VALUE" to edit a valid model
  std::string key;   // expected ConfigError::key() ("" when the file is not a JSON object)
  Method method = Method::lda;  // of the valid model that "replace:" edits
  std::string reject = {};      // its reject label
};

class BadModelFile : public ::testing::TestWithParam<BadModel> {};

TEST_P(BadModelFile, GivesConfigErrorNamingFileAndKey) {
  const BadModel& bad = GetParam();
  const fs::path dir = fs::path(WS_BINARY_DIR) / "test_classify_tmp" / "bad";
  fs::create_directories(dir);
  const fs::path file = dir / (bad.name + ".json");
  const Examples ex = make_examples(10, 9);
  TrainOptions options;
  options.method = bad.method;
  options.reject_label = bad.reject;
  Classifier::train(ex.features, ex.labels, options).save(file);
  std::string text = read_text(file);
  if (bad.text.rfind("replace:", 0) == 0) {
    const std::string spec = bad.text.substr(8);  // "FIELD=>NEWVALUE"
    const auto arrow = spec.find("=>");
    const std::string field = "\"" + spec.substr(0, arrow) + "\": ";
    const auto at = text.find(field);
    ASSERT_NE(at, std::string::npos) << field;
    // Replace up to the end of the field's value (next top-level comma or closing brace line).
    auto end = text.find(",\n  \"", at);
    if (end == std::string::npos) end = text.rfind("\n}");
    text = text.substr(0, at + field.size()) + spec.substr(arrow + 2) + text.substr(end);
  } else {
    text = bad.text;
  }
  std::ofstream(file) << text;
  try {
    Classifier::load(file);
    FAIL() << "no ConfigError for " << bad.name;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), file.string());
    EXPECT_EQ(e.key(), bad.key);
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

std::string bad_model_name(const ::testing::TestParamInfo<BadModel>& param) {
  return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadModelFile,
    ::testing::Values(
        BadModel{"not_json", "{ this is not json", ""}, BadModel{"not_object", "[1, 2, 3]", ""},
        BadModel{"wrong_version", "replace:format_version=>7", "format_version"},
        BadModel{"wrong_method", "replace:method=>\"svm\"", "method"},
        BadModel{"wrong_features", "replace:features=>[\"area\"]", "features"},
        BadModel{"no_classes", "replace:classes=>[]", "classes"},
        BadModel{"duplicate_classes", "replace:classes=>[\"a\", \"a\", \"b\"]", "classes"},
        BadModel{"short_mean", "replace:mean=>[1, 2]", "mean"},
        BadModel{"zero_scale", "replace:scale=>[0, 1, 1, 1, 1, 1, 1]", "scale"},
        BadModel{"string_prior", "replace:prior=>[\"x\", 1, 1]", "prior"},
        BadModel{"singular_covariance",
                 "replace:covariance=>[[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],"
                 "[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],"
                 "[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]",
                 "covariance"},
        BadModel{"unknown_reject_class", "replace:reject_class=>\"dust\"", "reject_class",
                 Method::lda, "residue"},
        BadModel{"tree_missing_nodes", "replace:tree=>{\"max_depth\": 1}", "tree", Method::tree},
        BadModel{"forest_no_trees", "replace:forest=>{\"max_features\": 2, \"trees\": []}",
                 "forest", Method::forest},
        BadModel{"forest_bad_max_features",
                 "replace:forest=>{\"max_features\": -1, \"trees\": [{\"max_depth\": 0, "
                 "\"min_leaf\": 1, \"nodes\": [{\"counts\": [1, 0, 0]}]}]}",
                 "forest.max_features", Method::forest},
        BadModel{"forest_bad_tree",
                 "replace:forest=>{\"max_features\": 2, \"trees\": [{\"max_depth\": 0, "
                 "\"min_leaf\": 1, \"nodes\": [{\"counts\": [\"1\", 0, 0]}]}]}",
                 "tree.nodes[0]", Method::forest},
        BadModel{"tree_loop",
                 "replace:tree=>{\"max_depth\": 1, \"min_leaf\": 1, \"nodes\": "
                 "[{\"counts\": [1, 1, 1], \"feature\": \"fill\", "
                 "\"threshold\": 0.5, \"left\": 0, \"right\": 1}, "
                 "{\"counts\": [1, 0, 0]}]}",
                 "tree.nodes", Method::tree},
        BadModel{"tree_unknown_feature",
                 "replace:tree=>{\"max_depth\": 1, \"min_leaf\": 1, \"nodes\": "
                 "[{\"counts\": [1, 1, 1], \"feature\": \"colour\", "
                 "\"threshold\": 0.5, \"left\": 1, \"right\": 2}, "
                 "{\"counts\": [1, 0, 0]}, {\"counts\": [0, 1, 0]}]}",
                 "tree.nodes[0]", Method::tree},
        BadModel{"tree_string_counts",
                 "replace:tree=>{\"max_depth\": 0, \"min_leaf\": 1, \"nodes\": "
                 "[{\"counts\": [\"1\", 0, 0]}]}",
                 "tree.nodes[0]", Method::tree}),
    bad_model_name);

TEST(ClassifierLoad, MissingFileGivesConfigErrorNamingIt) {
  const fs::path missing = fs::path(WS_BINARY_DIR) / "no_such_model.json";
  try {
    Classifier::load(missing);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), missing.string());
  }
}

TEST(ClassifierLoad, ShippedModelLoads) {
  const fs::path shipped = fs::path(WS_SOURCE_DIR) / "data" / "models" / "sim.json";
  if (!fs::exists(shipped)) GTEST_SKIP() << "no shipped model at " << shipped;
  const Classifier c = Classifier::load(shipped);
  EXPECT_FALSE(c.class_names().empty());
}

// One model type per method: each writes back exactly the file it was read from (the shipped
// models are one of each method, as save() wrote them).
TEST(ClassifierLoad, ShippedModelsOfBothMethodsSaveBackByteForByte) {
  const auto text = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (const auto& [name, method] :
       {std::pair{"sim.json", Method::lda}, std::pair{"deeppcb.json", Method::forest}}) {
    const fs::path shipped = fs::path(WS_SOURCE_DIR) / "data" / "models" / name;
    if (!fs::exists(shipped)) GTEST_SKIP() << "no shipped model at " << shipped;
    const Classifier c = Classifier::load(shipped);
    EXPECT_EQ(c.method(), method) << name;
    const fs::path copy = fs::path(WS_BINARY_DIR) / (std::string("resaved_") + name);
    c.save(copy);
    EXPECT_EQ(text(copy), text(shipped)) << name;
    fs::remove(copy);
  }
}

TEST(ClassifierMethod, NamesAreTheModelFilesMethods) {
  EXPECT_EQ(to_string(Method::lda), "lda");
  EXPECT_EQ(to_string(Method::tree), "tree");
  EXPECT_EQ(to_string(Method::forest), "forest");
  EXPECT_EQ(method_from_string("forest"), Method::forest);
  EXPECT_EQ(method_from_string("tree"), Method::tree);
  EXPECT_EQ(method_from_string("lda"), Method::lda);
  EXPECT_FALSE(method_from_string("svm").has_value());
}

}  // namespace
}  // namespace ws::classify
