// Image buffers used again, as a frame grabber's DMA buffers are: the preprocessed frame of every
// site and the levels of its alignment pyramid are written into them, and a buffer comes back when
// the pipeline lets go of the last Mat on it.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <mutex>
#include <vector>

namespace ws {

/// An OpenCV allocator that keeps the buffers of released Mats (up to `max_idle_bytes` in all) and
/// hands them out again for the same byte size. Allocating and freeing a 16 MiB frame per site
/// costs page faults on first touch and an munmap when freed; the free lands on whichever pipeline
/// thread drops the frame last, inside a node body, and was traced taking up to 5 ms there.
/// Thread-safe. It must outlive every Mat it allocated: frame_buffers() is never destroyed.
class FrameBuffers final : public cv::MatAllocator {
 public:
  explicit FrameBuffers(std::size_t max_idle_bytes) : max_idle_bytes_(max_idle_bytes) {}
  FrameBuffers(const FrameBuffers&) = delete;
  FrameBuffers& operator=(const FrameBuffers&) = delete;
  ~FrameBuffers() override;

  /// `mat` becomes a `size` x `type` image in a buffer of this pool (its old data is released).
  void create(cv::Mat& mat, cv::Size size, int type) const;

  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, std::size_t* step,
                         cv::AccessFlag flags, cv::UMatUsageFlags usage) const override;
  bool allocate(cv::UMatData* data, cv::AccessFlag flags, cv::UMatUsageFlags usage) const override;
  void deallocate(cv::UMatData* data) const override;

  /// Buffers waiting to be used again.
  [[nodiscard]] std::size_t idle() const;
  /// Buffers obtained from the system so far (a reuse does not count).
  [[nodiscard]] std::size_t fresh() const;

 private:
  struct Buffer {
    std::size_t bytes;
    void* data;
  };
  std::size_t max_idle_bytes_;
  mutable std::mutex mutex_;
  mutable std::vector<Buffer> idle_;
  mutable std::size_t idle_bytes_ = 0;
  mutable std::size_t fresh_ = 0;
};

/// The process's pool for pipeline frames: keeps up to 512 MiB idle (the frames of a run with an
/// in-flight cap of 16 at 4096^2 and a few ahead), lives until the process exits.
const FrameBuffers& frame_buffers();

}  // namespace ws
