#include "base/frame_buffers.hpp"

#include <algorithm>
#include <iterator>

namespace ws {

FrameBuffers::~FrameBuffers() {
  for (const Buffer& b : idle_) cv::fastFree(b.data);
}

void FrameBuffers::create(cv::Mat& mat, cv::Size size, int type) const {
  mat.release();
  mat.allocator = const_cast<FrameBuffers*>(this);  // OpenCV's allocator slot is non-const
  mat.create(size, type);
}

cv::UMatData* FrameBuffers::allocate(int dims, const int* sizes, int type, void* data,
                                     std::size_t* step, cv::AccessFlag /*flags*/,
                                     cv::UMatUsageFlags /*usage*/) const {
  // Steps of a continuous array, or the caller's where it passes its own data and steps.
  std::size_t total = CV_ELEM_SIZE(type);
  for (int i = dims - 1; i >= 0; --i) {
    if (step != nullptr) {
      if (data != nullptr && step[i] != cv::Mat::AUTO_STEP) {
        CV_Assert(total <= step[i]);
        total = step[i];
      } else {
        step[i] = total;
      }
    }
    total *= static_cast<std::size_t>(sizes[i]);
  }
  if (data != nullptr) {
    auto* u = new cv::UMatData(this);
    u->size = total;
    u->data = u->origdata = static_cast<uchar*>(data);
    u->flags |= cv::UMatData::USER_ALLOCATED;
    return u;
  }
  void* buffer = nullptr;
  {
    std::lock_guard lock(mutex_);
    // The most recently released first: its pages are the likeliest still in cache.
    const auto it = std::find_if(idle_.rbegin(), idle_.rend(),
                                 [&](const Buffer& b) { return b.bytes == total; });
    if (it != idle_.rend()) {
      buffer = it->data;
      idle_bytes_ -= it->bytes;
      idle_.erase(std::next(it).base());
    } else {
      ++fresh_;
    }
  }
  if (buffer == nullptr) buffer = cv::fastMalloc(total);  // throws on failure: nothing to undo
  auto* u = new cv::UMatData(this);
  u->size = total;
  u->data = u->origdata = static_cast<uchar*>(buffer);
  return u;
}

bool FrameBuffers::allocate(cv::UMatData* data, cv::AccessFlag /*flags*/,
                            cv::UMatUsageFlags /*usage*/) const {
  return data != nullptr;  // host memory only: nothing more to allocate
}

void FrameBuffers::deallocate(cv::UMatData* u) const {
  if (u == nullptr) return;
  CV_Assert(u->urefcount == 0 && u->refcount == 0);
  if ((u->flags & cv::UMatData::USER_ALLOCATED) == 0 && u->origdata != nullptr) {
    void* spare = u->origdata;
    {
      std::lock_guard lock(mutex_);
      if (idle_bytes_ + u->size <= max_idle_bytes_) {
        idle_.push_back({u->size, u->origdata});
        idle_bytes_ += u->size;
        spare = nullptr;
      }
    }
    if (spare != nullptr) cv::fastFree(spare);
    u->origdata = nullptr;
  }
  delete u;
}

std::size_t FrameBuffers::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t FrameBuffers::fresh() const {
  std::lock_guard lock(mutex_);
  return fresh_;
}

const FrameBuffers& frame_buffers() {
  static const FrameBuffers* const pool =
      new FrameBuffers(std::size_t{512} << 20);  // never destroyed: see the class
  return *pool;
}

}  // namespace ws
