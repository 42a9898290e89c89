#include "base/input_file.hpp"

#include "waferscan/error.hpp"

#include <cstdlib>
#include <fstream>
#include <system_error>

namespace ws {

namespace fs = std::filesystem;

namespace {

template <typename T>
void read_limit(const char* variable, T& value) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || text[0] == '-') {
    throw ConfigError(std::string("environment variable ") + variable, 0, "",
                      std::string("expected a positive integer, got '") + text + "'");
  }
  value = static_cast<T>(v);
}

InputLimits limits_from_environment() {
  InputLimits limits;
  read_limit("WAFERSCAN_MAX_TEXT_BYTES", limits.text_bytes);
  read_limit("WAFERSCAN_MAX_IMAGE_PIXELS", limits.image_pixels);
  return limits;
}

}  // namespace

const InputLimits& input_limits() {
  static const InputLimits limits = limits_from_environment();
  return limits;
}

std::string not_a_regular_file(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  switch (status.type()) {
    case fs::file_type::regular:
      return {};
    case fs::file_type::not_found:
      return "does not exist";
    case fs::file_type::directory:
      return "is a directory, not a file";
    case fs::file_type::fifo:
      return "is a FIFO (named pipe), not a file";
    case fs::file_type::character:
      return "is a character device, not a file";
    case fs::file_type::block:
      return "is a block device, not a file";
    case fs::file_type::socket:
      return "is a socket, not a file";
    default:
      return ec ? "cannot be examined: " + ec.message() : "is not a regular file";
  }
}

std::string read_input_file(const fs::path& path, std::uintmax_t limit) {
  const std::string name = path.string();
  if (const std::string why = not_a_regular_file(path); !why.empty()) {
    throw ConfigError(name, 0, "", "cannot open file: it " + why);
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  const std::string cap =
      "; the limit is " + std::to_string(limit) + " bytes (WAFERSCAN_MAX_TEXT_BYTES raises it)";
  if (!ec && size > limit) {
    throw ConfigError(name, 0, "", "is " + std::to_string(size) + " bytes" + cap);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(name, 0, "", "cannot open file");
  // Read at most limit + 1 bytes whatever the size said: a file can grow while it is read.
  std::string text(ec ? std::size_t{0} : static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  for (char chunk[65536]; in && text.size() <= limit;) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw ConfigError(name, 0, "", "cannot read file");
  if (text.size() > limit)
    throw ConfigError(name, 0, "", "is more than " + std::to_string(limit) + " bytes" + cap);
  return text;
}

}  // namespace ws
