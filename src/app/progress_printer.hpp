// The one place progress is shown: a live line on a terminal, periodic plain lines otherwise.
#pragma once

#include "publish/journal.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>

namespace ws::app {

/// Called by the journal once per published site. Thread safety: the journal serialises calls.
class ProgressPrinter {
 public:
  /// `quiet` silences everything; `out` is where the lines go (stderr in the CLI).
  ProgressPrinter(std::FILE* out, bool quiet);
  void operator()(const Progress& p);
  /// Ends a live line (prints the newline) before other output follows.
  void finish();

 private:
  std::FILE* out_;
  bool quiet_;
  bool tty_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point last_plain_{};
};

}  // namespace ws::app
