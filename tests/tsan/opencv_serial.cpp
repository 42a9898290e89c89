// Compiled into every executable of the tsan build (tests and the CLI; tests/tsan/CMakeLists.txt):
// turns off OpenCV's own threading before main() runs.
//
// Debian's OpenCV runs parts of some functions (cv::connectedComponents*, filters) as TBB tasks
// on its own cv::parallel_for_. Its TBB code is compiled into libopencv_core, which is neither
// built with TSan nor with TBB_USE_PROFILING_TOOLS, so tbb_tsan_bridge cannot show TSan the
// hand-off back to the caller: a cv::Mat or a buffer that an OpenCV task allocates on a worker and
// the calling thread frees after cv::parallel_for_ returns is reported as a race. Suppressing
// those reports would mean suppressing races on OpenCV's allocations (cv::fastMalloc,
// cv::Mat::create), which would also hide a real unsynchronised hand-off of an image between
// waferscan's own threads. Running OpenCV's loops in the calling thread instead (what OpenCV does
// itself for a nested cv::parallel_for_) costs no coverage: TSan cannot see inside OpenCV anyway,
// and every waferscan thread and TBB task still runs as in a normal build.
#include <opencv2/core/utility.hpp>

namespace {

// Static initialisation of the executable runs after the shared libraries' (OpenCV's included).
[[maybe_unused]] const bool opencv_threads_off = [] {
  cv::setNumThreads(0);  // 0: "run all its functions sequentially" (OpenCV's documentation)
  return true;
}();

}  // namespace
