// Recorded-set manifests: manifest.yaml <-> Manifest, strictly validated (docs/recorded-sets.md).
#include "base/input_file.hpp"
#include "waferscan/recorded_set.hpp"

#include "base/content_hash.hpp"
#include "io/wafer_sites.hpp"
#include "io/yaml_fields.hpp"
#include "waferscan/error.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

namespace ws {

namespace {

namespace fs = std::filesystem;
using io::Fields;
using io::Range;

constexpr int kFormatVersion = 1;
constexpr const char* kManifestName = "manifest.yaml";

// A path as written in the manifest: relative to the set folder unless absolute.
fs::path resolve(const fs::path& dir, const std::string& text) {
  const fs::path p(text);
  return p.is_absolute() ? p : (dir / p).lexically_normal();
}

// A referenced file must exist and be a regular file; the message names the file and the entry.
void require_file(const Fields& f, std::string_view key, const fs::path& p,
                  const std::string& entry) {
  if (const std::string why = not_a_regular_file(p); !why.empty()) {
    f.fail(key, entry + ": file '" + p.string() + "' " + why);
  }
}

std::string read_path(const Fields& f, std::string_view key, const fs::path& dir, fs::path& out) {
  std::string text;
  f.text(key, text);
  if (!text.empty()) out = resolve(dir, text);
  return text;
}

// A frame's own size (`width` and `height`, both or neither): for a set whose frames differ in
// size. A flat field has the set's size, so a set with one keeps every frame at that size.
void read_frame_size(const Fields& f, const Manifest& m, FrameEntry& e) {
  if (!f.has("width") && !f.has("height")) return;
  if (!f.has("width")) f.fail("width", "required with height: the frame's width in pixels");
  if (!f.has("height")) f.fail("height", "required with width: the frame's height in pixels");
  f.integer("width", e.width, Range::between(16, 16384));
  f.integer("height", e.height, Range::between(16, 16384));
  if (!m.flat.empty() && (e.width != m.frame_width || e.height != m.frame_height)) {
    f.fail("width", "a set with a flat field has one frame size (" + std::to_string(m.frame_width) +
                        "x" + std::to_string(m.frame_height) +
                        "): the flat field cannot apply to a frame of another");
  }
}

std::vector<LabelledDefect> read_labels(const Fields& frame, const Manifest& m,
                                        const FrameEntry& e) {
  const std::string& file = frame.file();
  const YAML::Node node = frame.value("defects");
  if (!node.IsSequence()) {
    frame.fail("defects",
               "expected a list of {bbox: [x, y, w, h], class: NAME} (may be empty), "
               "got " +
                   io::describe_node(node));
  }
  std::vector<LabelledDefect> labels;
  for (std::size_t k = 0; k < node.size(); ++k) {
    const Fields d(file, node[k], frame.path("defects") + "[" + std::to_string(k) + "]",
                   {"bbox", "class"}, io::line_of(node));
    const YAML::Node box = d.value("bbox");
    if (!box.IsDefined()) d.fail("bbox", "required: [x, y, width, height]");
    if (!box.IsSequence() || box.size() != 4) {
      d.fail("bbox", "expected [x, y, width, height], got " + io::describe_node(box));
    }
    int v[4] = {0, 0, 0, 0};
    for (std::size_t c = 0; c < 4; ++c) {
      v[c] = io::scalar_integer(file, box[c], d.path("bbox") + "[" + std::to_string(c) + "]");
    }
    if (v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0) {
      d.fail("bbox", "expected x, y >= 0 and width, height > 0");
    }
    const cv::Size size = frame_size(m, e);
    if (v[2] > size.width - v[0] || v[3] > size.height - v[1]) {  // no int overflow
      d.fail("bbox", "box extends outside the " + std::to_string(size.width) + "x" +
                         std::to_string(size.height) + " frame");
    }
    LabelledDefect label;
    label.bbox = cv::Rect(v[0], v[1], v[2], v[3]);
    if (!d.has("class")) d.fail("class", "required: a class name");
    d.text("class", label.class_name);
    if (!m.classes.empty() &&
        std::find(m.classes.begin(), m.classes.end(), label.class_name) == m.classes.end()) {
      d.fail("class", "class '" + label.class_name + "' is not in the manifest's classes");
    }
    labels.push_back(std::move(label));
  }
  return labels;
}

void read_frames(const Fields& top, Manifest& m) {
  const std::string& file = top.file();
  const YAML::Node node = top.value("frames");
  if (!node.IsDefined()) top.fail("frames", "required: a list of frames");
  if (!node.IsSequence()) {
    top.fail("frames", "expected a list of frames, got " + io::describe_node(node));
  }
  if (node.size() == 0) top.fail("frames", "empty frame list");

  std::set<int> sites;
  std::set<std::string> names;
  const WaferGeometry& wafer = m;
  for (std::size_t k = 0; k < node.size(); ++k) {
    const std::string path = "frames[" + std::to_string(k) + "]";
    const Fields f(
        file, node[k], path,
        {"image", "reference", "site", "name", "die", "position_um", "width", "height", "defects"},
        io::line_of(node));
    FrameEntry e;
    e.line = f.line();
    e.site_index = static_cast<int>(k);

    if (!f.has("image")) f.fail("image", "required: the frame's image file");
    read_path(f, "image", m.dir, e.image);
    f.integer("site", e.site_index, Range::between(0, 1.0e7));
    require_file(f, "image", e.image, path + " (site " + std::to_string(e.site_index) + ")");
    if (!sites.insert(e.site_index).second) {
      f.fail(f.has("site") ? "site" : "image",
             "duplicate site index " + std::to_string(e.site_index));
    }

    if (f.has("die")) {
      const YAML::Node die = f.value("die");
      if (!die.IsSequence() || die.size() != 2) {
        f.fail("die", "expected [i, j], got " + io::describe_node(die));
      }
      e.die_i = io::scalar_integer(file, die[0], f.path("die") + "[0]");
      e.die_j = io::scalar_integer(file, die[1], f.path("die") + "[1]");
    }
    e.name = io::die_name(e.die_i, e.die_j);
    f.text("name", e.name);
    if (!names.insert(e.name).second) {
      f.fail(f.has("name") ? "name" : "die", "duplicate frame name '" + e.name + "'");
    }
    e.x_um = io::die_centre_x(wafer, e.die_i);
    e.y_um = io::die_centre_y(wafer, e.die_j);
    f.pair("position_um", e.x_um, e.y_um, Range::any());

    if (f.has("reference")) {
      read_path(f, "reference", m.dir, e.reference);
      require_file(f, "reference", e.reference,
                   path + " (site " + std::to_string(e.site_index) + ")");
    } else if (m.golden.empty()) {
      f.fail("reference",
             "required: this frame has no reference and the set has no golden reference");
    }
    read_frame_size(f, m, e);
    if (f.has("defects")) e.truth = read_labels(f, m, e);
    m.frames.push_back(std::move(e));
  }
}

}  // namespace

Manifest load_manifest(const fs::path& path) {
  std::error_code ec;
  const fs::path file_path = fs::is_directory(path, ec) ? path / kManifestName : path;
  const std::string file = file_path.string();
  const std::string text = io::read_text_file(file);
  const YAML::Node root = io::load_yaml(text, file);
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(file, 0, "", "empty manifest");
  const Fields top(
      file, root, "",
      {"version", "lot_id", "wafer_id", "wafer", "frame", "golden", "flat", "classes", "frames"},
      1);

  Manifest m;
  m.path = file_path;
  m.source_hash = content_hash(text);
  m.dir = file_path.parent_path().empty() ? fs::path(".") : file_path.parent_path();

  int version = kFormatVersion;
  if (!top.has("version")) top.fail("version", "required: " + std::to_string(kFormatVersion));
  top.integer("version", version, Range::between(kFormatVersion, kFormatVersion));
  top.text("lot_id", m.lot_id);
  top.text("wafer_id", m.wafer_id);

  const Fields wafer = top.nested("wafer", {"diameter_mm", "die_pitch_um", "die_origin_um"});
  wafer.number("diameter_mm", m.wafer_diameter_mm, Range::positive());
  wafer.pair("die_pitch_um", m.die_pitch_x_um, m.die_pitch_y_um, Range::positive());
  wafer.pair("die_origin_um", m.die_origin_x_um, m.die_origin_y_um, Range::any());

  if (!top.has("frame")) top.fail("frame", "required: {width, height, pixel_size_um}");
  const Fields frame = top.nested("frame", {"width", "height", "pixel_size_um"});
  if (!frame.has("width")) frame.fail("width", "required: frame width in pixels");
  if (!frame.has("height")) frame.fail("height", "required: frame height in pixels");
  frame.integer("width", m.frame_width, Range::between(16, 16384));
  frame.integer("height", m.frame_height, Range::between(16, 16384));
  frame.number("pixel_size_um", m.pixel_size_um, Range::positive());

  if (top.has("golden")) {
    read_path(top, "golden", m.dir, m.golden);
    require_file(top, "golden", m.golden, "golden reference");
  }
  if (top.has("flat")) {
    read_path(top, "flat", m.dir, m.flat);
    require_file(top, "flat", m.flat, "flat-field image");
  }
  top.strings("classes", m.classes);
  read_frames(top, m);
  return m;
}

namespace {

// The manifest's spelling of an in-memory (absolute) path: relative to the set folder when it is
// inside it, so a set can be moved or copied as a folder.
std::string relative_text(const fs::path& p, const fs::path& dir) {
  if (p.empty()) return {};
  const fs::path abs_dir = fs::absolute(dir).lexically_normal();
  const fs::path abs_p = fs::absolute(p).lexically_normal();
  const fs::path rel = abs_p.lexically_relative(abs_dir);
  if (rel.empty() || *rel.begin() == "..") return abs_p.generic_string();
  return rel.generic_string();
}

}  // namespace

namespace {

// The set-level keys: version, ids, wafer, frame, golden, flat, classes.
void emit_header(YAML::Emitter& out, const Manifest& m, const fs::path& dir) {
  out << YAML::Key << "version" << YAML::Value << kFormatVersion;
  out << YAML::Key << "lot_id" << YAML::Value << YAML::DoubleQuoted << m.lot_id;
  out << YAML::Key << "wafer_id" << YAML::Value << YAML::DoubleQuoted << m.wafer_id;
  out << YAML::Key << "wafer" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "diameter_mm" << YAML::Value << m.wafer_diameter_mm;
  out << YAML::Key << "die_pitch_um" << YAML::Value << YAML::Flow << YAML::BeginSeq
      << m.die_pitch_x_um << m.die_pitch_y_um << YAML::EndSeq;
  out << YAML::Key << "die_origin_um" << YAML::Value << YAML::Flow << YAML::BeginSeq
      << m.die_origin_x_um << m.die_origin_y_um << YAML::EndSeq;
  out << YAML::EndMap;
  out << YAML::Key << "frame" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "width" << YAML::Value << m.frame_width;
  out << YAML::Key << "height" << YAML::Value << m.frame_height;
  out << YAML::Key << "pixel_size_um" << YAML::Value << m.pixel_size_um;
  out << YAML::EndMap;
  if (!m.golden.empty()) {
    out << YAML::Key << "golden" << YAML::Value << relative_text(m.golden, dir);
  }
  if (!m.flat.empty()) out << YAML::Key << "flat" << YAML::Value << relative_text(m.flat, dir);
  if (!m.classes.empty()) {
    out << YAML::Key << "classes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& c : m.classes) out << YAML::DoubleQuoted << c;
    out << YAML::EndSeq;
  }
}

// One entry of `frames`.
void emit_frame(YAML::Emitter& out, const FrameEntry& e, const fs::path& dir) {
  out << YAML::BeginMap;
  out << YAML::Key << "site" << YAML::Value << e.site_index;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << e.name;
  out << YAML::Key << "die" << YAML::Value << YAML::Flow << YAML::BeginSeq << e.die_i << e.die_j
      << YAML::EndSeq;
  out << YAML::Key << "position_um" << YAML::Value << YAML::Flow << YAML::BeginSeq << e.x_um
      << e.y_um << YAML::EndSeq;
  out << YAML::Key << "image" << YAML::Value << relative_text(e.image, dir);
  if (!e.reference.empty()) {
    out << YAML::Key << "reference" << YAML::Value << relative_text(e.reference, dir);
  }
  if (e.width > 0 && e.height > 0) {
    out << YAML::Key << "width" << YAML::Value << e.width;
    out << YAML::Key << "height" << YAML::Value << e.height;
  }
  if (e.truth) {
    out << YAML::Key << "defects" << YAML::Value << YAML::BeginSeq;
    for (const LabelledDefect& d : *e.truth) {
      out << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "bbox" << YAML::Value << YAML::Flow << YAML::BeginSeq << d.bbox.x
          << d.bbox.y << d.bbox.width << d.bbox.height << YAML::EndSeq;
      out << YAML::Key << "class" << YAML::Value << YAML::DoubleQuoted << d.class_name;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

// `text` into `target` atomically: a temporary file beside it, then a rename.
void write_atomically(const fs::path& target, const std::string& text) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::path tmp = target;
  tmp += ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) throw ConfigError(tmp.string(), 0, "", "cannot create file");
    file << text;
    file.flush();
    if (!file) throw ConfigError(tmp.string(), 0, "", "cannot write file");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    throw ConfigError(target.string(), 0, "",
                      "cannot rename " + tmp.string() + ": " + ec.message());
  }
}

}  // namespace

void save_manifest(const Manifest& m) {
  const fs::path dir = m.dir.empty() ? m.path.parent_path() : m.dir;
  const fs::path target = m.path.empty() ? dir / kManifestName : m.path;
  YAML::Emitter out;
  out << YAML::BeginMap;
  emit_header(out, m, dir);
  out << YAML::Key << "frames" << YAML::Value << YAML::BeginSeq;
  for (const FrameEntry& e : m.frames) emit_frame(out, e, dir);
  out << YAML::EndSeq;
  out << YAML::EndMap;
  if (!out.good()) {
    throw ConfigError(target.string(), 0, "", "cannot write manifest: " + out.GetLastError());
  }
  write_atomically(target, std::string("# waferscan recorded image set (docs/recorded-sets.md)\n") +
                               out.c_str() + "\n");
}

}  // namespace ws
