#include "waferscan/error.hpp"

#include <string>

namespace ws {

namespace {
std::string format_config_error(const std::string& file, int line, const std::string& key,
                                const std::string& message) {
  // "FILE:LINE: KEY: MESSAGE"; an error with no file (a command-line option) starts at its key.
  std::string out = file;
  if (line > 0) {
    out.push_back(':');
    out.append(std::to_string(line));
  }
  if (!out.empty()) out.append(": ");
  if (!key.empty()) {
    out.append(key);
    out.append(": ");
  }
  out.append(message);
  return out;
}
}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, const std::string& message)
    : std::runtime_error(format_config_error(file, line, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      reason_(message) {}

}  // namespace ws
