// Project exception types and the process exit codes they map to.
#pragma once

#include <stdexcept>
#include <string>

namespace ws {

/// Exit codes of the `waferscan` command line (documented in the README).
namespace exit_code {
inline constexpr int completed = 0;
inline constexpr int failed = 1;
inline constexpr int usage = 2;  ///< usage or configuration error; no hardware moved
inline constexpr int canceled_operator = 130;
inline constexpr int canceled_shutdown = 143;
inline constexpr int emergency_stop = 3;
inline constexpr int timed_out = 4;
inline constexpr int fault = 5;
inline constexpr int unsafe = 6;  ///< the safe stop did not park the stage or turn the light off
inline constexpr int busy = 7;    ///< refused: another process holds the machine
}  // namespace exit_code

/// A configuration or input error: a recipe, graph spec, manifest or image that is not what was
/// expected. `what()` reads "FILE:LINE: KEY: MESSAGE" (line and key omitted when unknown).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, const std::string& message);
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] int line() const noexcept { return line_; }  ///< 1-based; 0 when unknown
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }  ///< MESSAGE

 private:
  std::string file_;
  int line_;
  std::string key_;
  std::string reason_;
};

/// A hardware driver failed (not an abort: see HardwareAborted).
class HardwareError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A blocking driver call returned early because its abort path was called.
class HardwareAborted : public HardwareError {
 public:
  using HardwareError::HardwareError;
};

/// The results store failed (I/O, disk full, corrupt database).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A run is being run (or resumed) by another live process: refused, exit 7 (busy), the same
/// however the two processes' steps interleave.
class RunBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An output file could not be written (a full disk, an I/O error, a failed rename): the command
/// fails (exit 1) and the file it would have replaced is untouched.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ws
