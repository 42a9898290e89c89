// The size an image's header declares, read before anything is decoded: for each format the
// reader knows, the size of a real file written by OpenCV; and nothing for what is not an image.
#include "io/image_header.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

namespace ws::io {
namespace {

std::optional<cv::Size> header_of(const std::string& ext, const cv::Mat& image,
                                  std::vector<int> params = {}) {
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes, params)) << ext;
  return header_size(bytes);
}

TEST(ImageHeader, EachFormatDeclaresTheSizeOpenCvWrote) {
  const cv::Mat grey(37, 53, CV_8UC1, cv::Scalar(7));  // width 53, height 37
  const cv::Mat colour(37, 53, CV_8UC3, cv::Scalar(1, 2, 3));
  const cv::Mat flat(37, 53, CV_32FC1, cv::Scalar(0.5));
  for (const auto& [ext, image] : std::vector<std::pair<std::string, cv::Mat>>{{".png", grey},
                                                                               {".png", colour},
                                                                               {".jpg", grey},
                                                                               {".jpg", colour},
                                                                               {".tiff", grey},
                                                                               {".tiff", flat},
                                                                               {".bmp", grey},
                                                                               {".pgm", grey},
                                                                               {".ppm", colour}}) {
    EXPECT_EQ(header_of(ext, image), cv::Size(53, 37)) << ext << " type " << image.type();
  }
  EXPECT_EQ(header_of(".jpg", grey, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), cv::Size(53, 37));
}

TEST(ImageHeader, WhatIsNotAnImageHeaderDeclaresNothing) {
  const std::string text = "this is not a PNG\n";
  EXPECT_FALSE(header_size({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  EXPECT_FALSE(header_size({}));
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(0)), png));
  png.resize(20);  // cut inside IHDR
  EXPECT_FALSE(header_size(png));
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(4, 4, CV_8UC1, cv::Scalar(0)), jpeg));
  jpeg.resize(6);  // SOI and the start of the first segment only
  EXPECT_FALSE(header_size(jpeg));
}

TEST(ImageHeader, AHugeClaimIsReadWithoutDecoding) {
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(0)), png));
  for (int k = 0; k < 4; ++k) {  // width and height to 30000 (0x00007530), big-endian
    png[16 + k] = png[20 + k] = static_cast<uchar>((30000u >> (8 * (3 - k))) & 255u);
  }
  EXPECT_EQ(header_size(png), cv::Size(30000, 30000));
}

}  // namespace
}  // namespace ws::io
