#include "io/import_pairs.hpp"

#include "base/utf8.hpp"
#include "waferscan/error.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <opencv2/core.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ws::io {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTest = "_test";
constexpr std::string_view kTemplate = "_temp";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Hard links are free and keep the set small; other file systems get a copy.
void place(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

struct Pair {
  fs::path test;
  fs::path reference;
};

}  // namespace

std::vector<LabelledDefect> read_box_labels(const fs::path& file,
                                            const std::vector<std::string>& classes) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string(), 0, "", "cannot open labels file");
  std::vector<LabelledDefect> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r,") == std::string::npos) continue;
    for (char& c : line) {
      if (c == ',') c = ' ';  // some copies of DeepPCB separate with commas
    }
    std::istringstream fields(line);
    long x1 = 0, y1 = 0, x2 = 0, y2 = 0, cls = 0;
    std::string extra;
    if (!(fields >> x1 >> y1 >> x2 >> y2 >> cls) || (fields >> extra)) {
      throw ConfigError(file.string(), number, "", "expected 'x1 y1 x2 y2 class' (five integers)");
    }
    if (x1 < 0 || y1 < 0 || x2 <= x1 || y2 <= y1 || x2 > (1 << 20) || y2 > (1 << 20)) {
      throw ConfigError(file.string(), number, "", "expected 0 <= x1 < x2 and 0 <= y1 < y2");
    }
    if (cls < 1 || cls > static_cast<long>(classes.size())) {
      throw ConfigError(
          file.string(), number, "class",
          "class " + std::to_string(cls) + " is not in 1.." + std::to_string(classes.size()));
    }
    out.push_back({cv::Rect(static_cast<int>(x1), static_cast<int>(y1), static_cast<int>(x2 - x1),
                            static_cast<int>(y2 - y1)),
                   classes[static_cast<std::size_t>(cls - 1)]});
  }
  return out;
}

void check_import_target(const fs::path& out_dir) {
  std::error_code ec;
  const fs::file_status status = fs::status(out_dir, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) {
    throw ConfigError(out_dir.string(), 0, "--out", "exists and is not a folder");
  }
  if (!fs::is_empty(out_dir, ec)) {
    throw ConfigError(out_dir.string(), 0, "--out", "exists and is not empty");
  }
}

StagedFolder::StagedFolder(fs::path target) : target_(std::move(target)) {
  fs::path absolute = fs::absolute(target_).lexically_normal();
  if (!absolute.has_filename()) absolute = absolute.parent_path();  // "out/"
  std::string name = ".";  // built by appending: GCC 12 warns (-Wrestrict) on "." + s
  name += absolute.filename().string();
  name += ".importing-";
  name += std::to_string(::getpid());
  staging_ = absolute.parent_path() / name;
  std::error_code ec;
  fs::remove_all(staging_, ec);  // a leftover of an earlier, killed, import with this pid
  if (!fs::create_directories(staging_, ec) || ec) {
    throw ConfigError(
        target_.string(), 0, "--out",
        "cannot create a folder beside it (" + staging_.string() + "): " + ec.message());
  }
}

StagedFolder::~StagedFolder() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void StagedFolder::commit() {
  std::error_code ec;
  fs::rename(staging_, target_, ec);
  if (ec) {
    throw OutputError(target_.string() + ": cannot move the imported set into place from " +
                      staging_.string() + ": " + ec.message());
  }
  committed_ = true;
}

Manifest import_pairs(const fs::path& dir, const fs::path& out_dir,
                      const std::vector<std::string>& classes) {
  if (!fs::is_directory(dir)) throw ConfigError(dir.string(), 0, "", "not a folder");
  std::set<std::string> names(classes.begin(), classes.end());
  if (classes.empty() || names.size() != classes.size() || names.count("") > 0) {
    throw ConfigError(dir.string(), 0, "classes", "expected distinct non-empty class names");
  }
  std::map<std::string, Pair> pairs;  // by NAME: sorted, so the set is the same on every machine
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string stem = e.path().stem().string();
    if (first_invalid_utf8(e.path().filename().string())) {
      throw ConfigError(e.path().string(), 0, "",
                        "its name is not valid UTF-8: a site is named after its file, and names "
                        "must be UTF-8 text");
    }
    if (ends_with(stem, kTest)) {
      pairs[stem.substr(0, stem.size() - kTest.size())].test = e.path();
    } else if (ends_with(stem, kTemplate)) {
      pairs[stem.substr(0, stem.size() - kTemplate.size())].reference = e.path();
    }
  }
  if (pairs.empty()) {
    throw ConfigError(dir.string(), 0, "", "no image pairs (NAME_test.* with NAME_temp.*)");
  }
  for (const auto& [name, p] : pairs) {
    if (p.reference.empty())
      throw ConfigError(p.test.string(), 0, "", "no template " + name + "_temp.*");
    if (p.test.empty())
      throw ConfigError(p.reference.string(), 0, "", "no test image " + name + "_test.*");
  }

  Manifest m;
  m.dir = fs::absolute(out_dir);
  m.path = m.dir / "manifest.yaml";
  m.classes = classes;
  // Read every label first: bad input leaves no half-made set behind.
  std::vector<std::optional<std::vector<LabelledDefect>>> truth;
  for (const auto& [name, p] : pairs) {
    const fs::path labels = dir / (name + ".txt");
    truth.push_back(fs::exists(labels) ? std::optional(read_box_labels(labels, classes))
                                       : std::nullopt);
  }
  fs::create_directories(m.dir / "frames");
  fs::create_directories(m.dir / "references");
  int index = 0;
  for (const auto& [name, p] : pairs) {
    FrameEntry f;
    f.image = m.dir / "frames" / p.test.filename();
    f.reference = m.dir / "references" / p.reference.filename();
    place(p.test, f.image);
    place(p.reference, f.reference);
    f.site_index = index;
    f.name = name;
    f.die_i = index;
    f.truth = std::move(truth[static_cast<std::size_t>(index)]);
    m.frames.push_back(std::move(f));
    ++index;
  }
  return m;
}

void record_frame_sizes(Manifest& m, const fs::path& pairs_dir) {
  if (m.frames.empty()) return;
  const SetImage first = read_set_image(m.frames.front().image, SetImageRole::frame, std::nullopt);
  if (!first.ok()) throw ConfigError("", 0, "", first.error);  // the error names the file
  m.frame_width = first.image.cols;
  m.frame_height = first.image.rows;
  std::vector<cv::Size> sizes(m.frames.size());
  tbb::parallel_for(std::size_t{1}, m.frames.size(), [&](std::size_t k) {
    const SetImage image = read_set_image(m.frames[k].image, SetImageRole::frame, std::nullopt);
    if (image.ok()) sizes[k] = image.image.size();
  });
  for (std::size_t k = 1; k < m.frames.size(); ++k) {
    if (sizes[k].empty() || sizes[k] == cv::Size(m.frame_width, m.frame_height)) continue;
    m.frames[k].width = sizes[k].width;
    m.frames[k].height = sizes[k].height;
  }
  for (const FrameEntry& f : m.frames) {
    const cv::Size size = frame_size(m, f);
    for (const LabelledDefect& d : f.truth ? *f.truth : std::vector<LabelledDefect>{}) {
      if (d.bbox.x + d.bbox.width > size.width || d.bbox.y + d.bbox.height > size.height) {
        throw ConfigError((pairs_dir / (f.name + ".txt")).string(), 0, "",
                          "a box extends outside the " + std::to_string(size.width) + "x" +
                              std::to_string(size.height) + " frame");
      }
    }
  }
}

}  // namespace ws::io
