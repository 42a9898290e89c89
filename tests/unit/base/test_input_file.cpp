// What the tool will read as a text input: a regular file within the size limit, and a clear
// reason for everything else.
#include "base/input_file.hpp"

#include "waferscan/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ws {
namespace {

namespace fs = std::filesystem;

class InputFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ws-input-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string refusal(const fs::path& p, std::uintmax_t limit) {
    try {
      read_input_file(p, limit);
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.file(), p.string());
      return e.reason();
    }
    return "read";
  }
  fs::path dir_;
};

TEST_F(InputFile, AFileWithinTheLimitIsReadWhole) {
  std::ofstream(dir_ / "a.yaml") << "recipe: a\n";
  EXPECT_EQ(read_input_file(dir_ / "a.yaml", 10), "recipe: a\n");
  EXPECT_EQ(refusal(dir_ / "a.yaml", 9),
            "is 10 bytes; the limit is 9 bytes (WAFERSCAN_MAX_TEXT_BYTES raises it)");
}

TEST_F(InputFile, WhatIsNotARegularFileIsNamedAsWhatItIs) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  fs::create_directory(dir_ / "folder");
  EXPECT_EQ(refusal(dir_ / "missing", 100), "cannot open file: it does not exist");
  EXPECT_EQ(refusal(dir_ / "folder", 100), "cannot open file: it is a directory, not a file");
  EXPECT_EQ(refusal(dir_ / "fifo", 100), "cannot open file: it is a FIFO (named pipe), not a file");
  EXPECT_EQ(refusal("/dev/zero", 100), "cannot open file: it is a character device, not a file");
  EXPECT_EQ(not_a_regular_file(dir_ / "folder"), "is a directory, not a file");
}

TEST_F(InputFile, TheDefaultLimitsAreDocumentedOnes) {
  ::unsetenv("WAFERSCAN_MAX_TEXT_BYTES");
  ::unsetenv("WAFERSCAN_MAX_IMAGE_PIXELS");
  EXPECT_EQ(input_limits().text_bytes, std::uintmax_t{256} << 20);
  EXPECT_EQ(input_limits().image_pixels, std::uint64_t{16384} * 16384);
}

}  // namespace
}  // namespace ws
