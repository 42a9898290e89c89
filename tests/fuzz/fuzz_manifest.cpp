// libFuzzer target: ws::load_manifest accepts any manifest.yaml or throws ConfigError; never
// crashes. The input is written to DIR/manifest.yaml, one fixed DIR per process (removed at exit);
// DIR also holds golden.png, frame.png and flat.tiff (a few bytes: only their existence is
// checked), so inputs that name them get past the referenced-file checks.
#include "fuzz_common.hpp"
#include "waferscan/recorded_set.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::abort();
  }
}

struct SetDir {
  fs::path dir;
  SetDir() : dir(fs::temp_directory_path() / ("ws_fuzz_manifest_" + std::to_string(::getpid()))) {
    fs::create_directories(dir);
    write_file(dir / "golden.png", "not decoded");
    write_file(dir / "frame.png", "not decoded");
    write_file(dir / "flat.tiff", "not decoded");
  }
  ~SetDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  SetDir(const SetDir&) = delete;
  SetDir& operator=(const SetDir&) = delete;
};

const SetDir& set_dir() {
  static const SetDir dir;
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ws::fuzz::run_parser(data, size, [](const std::string& text) {
    const fs::path file = set_dir().dir / "manifest.yaml";
    write_file(file, text);
    const ws::Manifest m = ws::load_manifest(set_dir().dir);
    if (m.frames.empty()) {  // the loader promises at least one frame
      std::fprintf(stderr, "load_manifest returned a manifest without frames\n");
      std::abort();
    }
  });
}
