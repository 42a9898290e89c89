// Hardware interfaces, shaped like vendor SDKs: blocking calls with no token, plus an abort path.
#pragma once

#include <opencv2/core.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

/// The machine's devices that run commands, as the hardware agent and the fault records name them.
enum class Device : std::uint8_t { stage = 0, light = 1, camera = 2 };
inline constexpr std::size_t kDeviceCount = 3;
std::string_view to_string(Device d) noexcept;
std::optional<Device> device_from_string(std::string_view name) noexcept;

/// An XY stage. Blocking calls return when the motion is complete and settled.
/// Thread safety: stop() may be called from any thread while move_to()/park() block on another;
/// the other members are called by one thread at a time (the HardwareAgent's).
class Stage {
 public:
  virtual ~Stage() = default;
  /// Moves to (x, y) in micrometres and waits for settle. Throws HardwareAborted if stop() was
  /// called during the move, HardwareError on a driver failure or a position outside travel.
  virtual void move_to(double x_um, double y_um) = 0;
  /// Aborts a move in progress (decelerates and holds). Safe from any thread; harmless when idle.
  virtual void stop() = 0;
  /// Moves to the park position (blocking). Harmless when already parked.
  virtual void park() = 0;
  [[nodiscard]] virtual bool parked() const = 0;
  [[nodiscard]] virtual cv::Point2d position_um() const = 0;
};

/// The illumination. set_on blocks for the lamp's switching time.
class Light {
 public:
  virtual ~Light() = default;
  virtual void set_on(bool on) = 0;
  [[nodiscard]] virtual bool is_on() const = 0;
};

/// An area camera. capture() blocks for exposure and readout.
/// Thread safety: abort() may be called from any thread while capture() blocks on another.
class Camera {
 public:
  virtual ~Camera() = default;
  /// Exposes and reads out one 8-bit grey frame. Throws HardwareAborted if abort() was called
  /// during the capture, HardwareError on a driver failure.
  virtual cv::Mat capture() = 0;
  /// Aborts a capture in progress. Safe from any thread; harmless when idle.
  virtual void abort() = 0;
  /// Releases the device (ends acquisition mode); harmless when already released.
  virtual void release() = 0;
  [[nodiscard]] virtual bool acquiring() const = 0;
};

/// The machine's health sensor (on a real machine: the lamp housing or stage motor temperature),
/// read by the HealthMonitor's background loop.
/// Thread safety: read from one thread at a time (the monitor's), concurrently with the devices.
class HealthSensor {
 public:
  virtual ~HealthSensor() = default;
  /// One reading in degrees Celsius. Returns within milliseconds; throws HardwareError when the
  /// sensor cannot be read.
  [[nodiscard]] virtual double temperature_c() = 0;
};

/// The devices of one machine, and its calibration data.
struct Machine {
  std::shared_ptr<Stage> stage;
  std::shared_ptr<Light> light;
  std::shared_ptr<Camera> camera;
  std::shared_ptr<HealthSensor> health;  ///< null: the machine has no health sensor
  /// Golden reference: the defect-free die as the camera sees it after flat-field correction.
  cv::Mat golden;
  /// Flat-field gain image (CV_32F, mean 1): raw = ideal * flat. Empty means no correction.
  cv::Mat flat;
};

/// How a synchronous device call (or a safe-stop step) ended.
enum class CallOutcome { ok, failed, timed_out, skipped };
std::string_view to_string(CallOutcome outcome) noexcept;

struct CallResult {
  CallOutcome outcome = CallOutcome::ok;
  std::string message;  ///< the exception text for failed, empty otherwise
};

/// How the hardware agent treats a call that overran its deadline.
struct AgentOptions {
  /// How long an aborted call may take to return before its device is marked Faulted.
  std::chrono::milliseconds abort_grace{1000};
};

}  // namespace ws
