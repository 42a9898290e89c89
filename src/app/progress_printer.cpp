#include "app/progress_printer.hpp"

#include <unistd.h>

#include <string>

namespace ws::app {

namespace {
// Shown once any site could not be registered well enough to compare: such a site is not clean.
std::string unreliable_note(const Progress& p) {
  if (p.sites_unreliable == 0) return {};
  return ", unreliable " + std::to_string(p.sites_unreliable);
}
}  // namespace

ProgressPrinter::ProgressPrinter(std::FILE* out, bool quiet)
    : out_(out), quiet_(quiet), tty_(isatty(fileno(out)) != 0) {}

void ProgressPrinter::operator()(const Progress& p) {
  if (quiet_) return;
  const double rate = p.elapsed_s > 0 ? p.sites_published / p.elapsed_s : 0.0;
  const int left = p.sites_total - p.sites_published;
  const double eta = rate > 0 ? left / rate : 0.0;
  const double pct = p.sites_total > 0 ? 100.0 * p.sites_published / p.sites_total : 100.0;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * pct / 100.0);
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
    bar[kWidth] = '\0';
    std::fprintf(out_, "\r[%s] %4d/%-4d %5.1f%%  %5.2f sites/s  ETA %4.0fs  defects %d%s ", bar,
                 p.sites_published, p.sites_total, pct, rate, eta, p.defects,
                 unreliable_note(p).c_str());
    std::fflush(out_);
    line_open_ = true;
    return;
  }
  // Not a terminal: a plain line at most every 2 s, and always for the last site.
  const auto now = std::chrono::steady_clock::now();
  if (left != 0 && now - last_plain_ < std::chrono::seconds(2)) return;
  last_plain_ = now;
  std::fprintf(out_, "progress: %d/%d sites (%.1f%%), %.2f sites/s, ETA %.0fs, defects %d%s\n",
               p.sites_published, p.sites_total, pct, rate, eta, p.defects,
               unreliable_note(p).c_str());
  std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
}

}  // namespace ws::app
