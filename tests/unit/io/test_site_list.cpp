// A long explicit site list is read a chunk of items at a time (and its plain lines without YAML
// nodes): the sites, messages, lines and keys are those of reading the list as one YAML document.
#include "waferscan/error.hpp"
#include "waferscan/recipe.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ws {
namespace {

constexpr const char* kHead =
    "recipe: long\n"
    "wafer: {diameter_mm: 300, die_pitch_um: [100, 100], die_origin_um: [-50000, -50000]}\n"
    "stage: {travel_um: {x: [-150000, 150000], y: [-150000, 150000]}, park_um: [0, 0]}\n";
constexpr int kHeadLines = 3;

// Item k in one of the forms a list mixes: plain, named, with a position, quoted, multi-line.
std::string item(int k, bool block) {
  const std::string die =
      std::string("[") + std::to_string(k % 997) + ", " + std::to_string(k / 997) + "]";
  switch (k % 5) {
    case 0:
      return "{die: " + die + "}";
    case 1:
      return "{die: " + die + ", name: s" + std::to_string(k) + "}";
    case 2:
      return "{die: " + die + ", position_um: [" + std::to_string(k) + ".5, -7]}";
    case 3:
      return "{die: " + die + ", name: \"q " + std::to_string(k) + "\"}";
    default:
      return block ? "\n    die: " + die + "\n    name: m" + std::to_string(k)
                   : "{die: " + die + ", name: m" + std::to_string(k) + "}";
  }
}

// The same sites as a block sequence (read in chunks) and as one flow sequence (one document).
std::pair<std::string, std::string> both_forms(int n) {
  std::string block = std::string(kHead) + "sites:   # every form\n";
  std::string flow = std::string(kHead) + "sites: [";
  for (int k = 0; k < n; ++k) {
    if (k % 1000 == 7) block += "\n  # a comment between items\n";
    block += "  - " + item(k, true) + "\n";
    flow += (k > 0 ? ", " : "") + item(k, false);
  }
  return {block + "model: m.json\n", flow + "]\nmodel: m.json\n"};
}

std::string refusal(const std::string& text) {
  try {
    parse_recipe(text, "long.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "parsed";
}

TEST(SiteList, AListReadInChunksEqualsTheListReadAsOneDocument) {
  const auto [block, flow] = both_forms(10000);  // three chunks of 4096
  const Recipe chunked = parse_recipe(block, "long.yaml");
  const Recipe whole = parse_recipe(flow, "long.yaml");
  ASSERT_EQ(chunked.sites.size(), 10000u);
  ASSERT_EQ(whole.sites.size(), 10000u);
  for (std::size_t k = 0; k < whole.sites.size(); ++k) {
    const SiteSpec& a = chunked.sites[k];
    const SiteSpec& b = whole.sites[k];
    ASSERT_EQ(a.index, b.index);
    ASSERT_EQ(a.name, b.name) << k;
    ASSERT_EQ(a.die_i, b.die_i) << k;
    ASSERT_EQ(a.die_j, b.die_j) << k;
    ASSERT_EQ(a.x_um, b.x_um) << k;
    ASSERT_EQ(a.y_um, b.y_um) << k;
  }
  EXPECT_EQ(chunked.name, "long");
  EXPECT_EQ(chunked.model, whole.model) << "keys after the list are read";
  EXPECT_EQ(chunked.source_text, block);
}

TEST(SiteList, AnErrorInALaterChunkNamesItsLineAndKey) {
  std::string text = std::string(kHead) + "sites:\n";
  for (int k = 0; k < 9000; ++k) {
    text += k == 8500 ? "  - {die: [1, x]}\n" : "  - {die: [" + std::to_string(k) + ", 0]}\n";
  }
  const int line = kHeadLines + 1 + 8500 + 1;
  EXPECT_NE(refusal(text).find("long.yaml:" + std::to_string(line) + ": sites[8500].die[1]: "),
            std::string::npos)
      << refusal(text);
}

TEST(SiteList, ARepeatedNameInAnotherChunkIsTheFirstRepeat) {
  std::string text = std::string(kHead) + "sites:\n";
  for (int k = 0; k < 9000; ++k) {
    std::string name = "s";
    name += k == 8000 ? "10" : (k == 8800 ? "20" : std::to_string(k));
    text += "  - {die: [";
    text += std::to_string(k) + ", 0], name: " + name + "}\n";
  }
  EXPECT_NE(refusal(text).find("long.yaml:" + std::to_string(kHeadLines + 1 + 8000 + 1) +
                               ": sites[8000].name: duplicate site name 's10'"),
            std::string::npos)
      << refusal(text);
}

TEST(SiteList, AnAliasAcrossChunksIsReadAsOneDocument) {
  std::string text = std::string(kHead) + "sites:\n  - &first {die: [0, 0], name: a}\n";
  for (int k = 1; k < 5000; ++k) text += "  - {die: [" + std::to_string(k) + ", 1]}\n";
  text += "  - *first\n";
  EXPECT_NE(refusal(text).find("duplicate site name 'a'"), std::string::npos) << refusal(text);
  EXPECT_NE(refusal(text).find("sites[5000].name"), std::string::npos) << refusal(text);
}

TEST(SiteList, AnErrorInAKeyAfterTheListNamesItsLineInTheRecipe) {
  std::string text = std::string(kHead) + "sites:\n";
  for (int k = 0; k < 5000; ++k) text += "  - {die: [" + std::to_string(k) + ", 0]}\n";
  text += "camera: {width: 8}\n";
  const int line = kHeadLines + 1 + 5000 + 1;
  EXPECT_NE(refusal(text).find("long.yaml:" + std::to_string(line) +
                               ": camera.width: must be in [16, 16384], got 8"),
            std::string::npos)
      << refusal(text);
}

TEST(SiteList, APlainNullNameIsYamlsNull) {
  const std::string text = std::string(kHead) + "sites:\n  - {die: [0, 0], name: null}\n";
  EXPECT_NE(refusal(text).find("sites[0].name: expected a string"), std::string::npos)
      << refusal(text);
}

}  // namespace
}  // namespace ws
