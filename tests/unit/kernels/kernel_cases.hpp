// The kernels the cancellation tests run, each as a call on fixed inputs with a given checkpoint.
#pragma once

#include "kernels/absdiff_shifted.hpp"
#include "kernels/detect.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"
#include "kernels/noise_sigma.hpp"
#include "kernels/threshold.hpp"

#include <opencv2/core.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ws::kernels::test {

/// One kernel run on fixed inputs; the test supplies the checkpoint.
struct KernelCase {
  std::string name;  ///< the kernel's name, used as the test name
  std::function<Status(const Checkpoint&)> run;
};

/// Inputs of kernel_cases(): a frame and its reference of one size, and the few settings the
/// suites choose differently.
struct CaseImages {
  cv::Mat a;      ///< the frame (CV_8UC1)
  cv::Mat b;      ///< its reference
  cv::Mat flat;   ///< flat-field gain (CV_32FC1)
  cv::Mat noise;  ///< what noise_sigma measures
  int dx = 1;     ///< shift of absdiff_shifted
  int dy = 1;
  int level = 100;                                  ///< threshold level
  int max_shift_px = DetectionSpec{}.max_shift_px;  ///< detect's alignment search radius
  int band = 8;                                     ///< band rows of every kernel
};

/// The kernels that take a frame (and reference): flat_field, median3, absdiff_shifted,
/// threshold, noise_sigma and detect, on `in`.
inline std::vector<KernelCase> kernel_cases(const CaseImages& in) {
  return {
      {"flat_field",
       [in](const Checkpoint& cp) {
         cv::Mat o;
         return flat_field(in.a, in.flat, in.band, cp, o);
       }},
      {"median3",
       [in](const Checkpoint& cp) {
         cv::Mat o;
         return median3(in.a, in.band, cp, o);
       }},
      {"absdiff_shifted",
       [in](const Checkpoint& cp) {
         cv::Mat o;
         return absdiff_shifted(in.a, in.b, in.dx, in.dy, in.band, cp, o);
       }},
      {"threshold",
       [in](const Checkpoint& cp) {
         cv::Mat o;
         return threshold(in.a, in.level, in.band, cp, o);
       }},
      {"noise_sigma",
       [in](const Checkpoint& cp) {
         return noise_sigma(in.noise, cv::Rect({}, in.noise.size()), in.band, cp).status;
       }},
      {"detect",
       [in](const Checkpoint& cp) {
         DetectionSpec spec;
         spec.band_rows = in.band;
         spec.max_shift_px = in.max_shift_px;
         return detect(in.a, in.b, spec, cp).status;
       }},
  };
}

}  // namespace ws::kernels::test
