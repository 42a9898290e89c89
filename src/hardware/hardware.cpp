// The devices' names (see waferscan/hardware.hpp).
#include "waferscan/hardware.hpp"

#include <array>

namespace ws {

namespace {
constexpr std::array<std::string_view, kDeviceCount> kDeviceNames{"stage", "light", "camera"};
}  // namespace

std::string_view to_string(Device d) noexcept {
  return kDeviceNames[static_cast<std::size_t>(d)];
}

std::optional<Device> device_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDeviceNames.size(); ++i) {
    if (kDeviceNames[i] == name) return static_cast<Device>(i);
  }
  return std::nullopt;
}

}  // namespace ws
