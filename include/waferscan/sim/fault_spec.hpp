// Fault-injection specs: `TARGET=BEHAVIOUR@WHEN` strings from `--inject` and a recipe's `faults:`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

/// What a fault hits: a device call, or one of the machine-level events.
enum class FaultTarget {
  camera_capture,    ///< "camera.capture"
  camera_abort,      ///< "camera.abort"
  stage_move,        ///< "stage.move"
  stage_stop,        ///< "stage.stop"
  stage_park,        ///< "stage.park"
  light_on,          ///< "light.on"
  light_off,         ///< "light.off"
  machine_estop,     ///< "machine.estop": the interlock fires
  store_write,       ///< "store.write": the disk is full
  frame_corrupt,     ///< "frame.corrupt": the camera returns garbage
  machine_overheat,  ///< "machine.overheat": the health sensor reads 40 C hotter from then on
};

/// What the fault does. hang, slow, error and ignore_abort apply to device calls; fire to the
/// machine-level targets (machine.estop, store.write, frame.corrupt, machine.overheat), where
/// `error` is accepted as a synonym and parsed as fire.
enum class FaultBehaviour {
  hang,          ///< the call blocks until its abort path is called (or release_hangs())
  slow,          ///< the call takes FaultSpec::slow_ms more milliseconds (literal, not scaled)
  error,         ///< the call throws HardwareError
  ignore_abort,  ///< aborts are ignored (on an abort path: the abort call does nothing)
  fire,          ///< the event happens
};

/// When the fault applies.
enum class FaultWhen {
  site,         ///< at the recipe site with 0-based index FaultSpec::n
  call,         ///< at the n-th (1-based) call of the target
  probability,  ///< on each call with probability FaultSpec::p, drawn from the recipe's seed
};

/// One parsed `TARGET=BEHAVIOUR@WHEN`. Plain data; compare with ==.
struct FaultSpec {
  FaultTarget target = FaultTarget::camera_capture;
  FaultBehaviour behaviour = FaultBehaviour::error;
  std::uint32_t slow_ms = 0;  ///< behaviour slow only: extra milliseconds, in [1, 3600000]
  FaultWhen when = FaultWhen::call;
  std::uint32_t n = 1;  ///< site: 0-based site index; call: 1-based call number
  double p = 0.0;       ///< probability: in (0, 1]

  friend bool operator==(const FaultSpec&, const FaultSpec&) = default;
};

/// True for the device calls (camera.*, stage.*, light.*), false for the machine-level targets.
[[nodiscard]] bool is_device_call(FaultTarget target) noexcept;

/// The spelling of a target ("camera.capture") or a behaviour without its argument ("slow").
[[nodiscard]] std::string_view to_string(FaultTarget target) noexcept;
[[nodiscard]] std::string_view to_string(FaultBehaviour behaviour) noexcept;

/// Parses one SPEC, e.g. "camera.capture=hang@site:3", "stage.stop=ignore_abort@call:1",
/// "machine.estop=fire@site:5", "light.on=slow:250@p:0.01". Surrounding blanks are ignored.
/// Throws ConfigError("", 0, "--inject", message) when the spec is malformed; the message names
/// the part that is wrong and lists what is valid there. Thread safety: pure function.
/// @code
///   const ws::FaultSpec f = ws::parse_fault_spec("camera.capture=hang@site:3");
///   // f.target == FaultTarget::camera_capture, f.when == FaultWhen::site, f.n == 3
/// @endcode
[[nodiscard]] FaultSpec parse_fault_spec(std::string_view spec);

/// Same, for a spec read from a file: a malformed spec throws ConfigError(file, line, key, ...),
/// e.g. ("recipe.yaml", 12, "faults[0]"). `line` is 1-based, 0 when unknown.
[[nodiscard]] FaultSpec parse_fault_spec(std::string_view spec, const std::string& file, int line,
                                         const std::string& key);

/// Whether a fault fires on one call of its target: the one rule for `@WHEN`, used by the
/// simulated devices and by the store-fault decorator alike.
/// - `call:N`: the N-th (1-based) call of the target;
/// - `site:N`: a call made for the recipe site with index N (`at_site(N)` says whether this call
///   is: a device call matches every site at the stage position of site N, a store write the
///   write of site N's result);
/// - `p:P`: a deterministic draw with probability P from (`salt`, call): the same calls fire
///   whatever the timing or the thread.
/// Thread safety: pure.
class FaultMatcher {
 public:
  /// `salt`: distinguishes the draws of the faults of one run (e.g. from the recipe seed and the
  /// fault's position in the list).
  FaultMatcher(FaultSpec spec, std::uint64_t salt) : spec_(spec), salt_(salt) {}
  [[nodiscard]] const FaultSpec& spec() const noexcept { return spec_; }
  template <typename AtSite>
  [[nodiscard]] bool fires(std::uint64_t call, AtSite&& at_site) const {
    switch (spec_.when) {
      case FaultWhen::call:
        return call == spec_.n;
      case FaultWhen::site:
        return at_site(spec_.n);
      case FaultWhen::probability:
        return draw(call) < spec_.p;
    }
    return false;
  }

 private:
  [[nodiscard]] double draw(std::uint64_t call) const noexcept;  ///< in [0, 1)

  FaultSpec spec_;
  std::uint64_t salt_;
};

/// The salt of the `index`-th fault of a run seeded with `seed`.
[[nodiscard]] std::uint64_t fault_salt(std::uint64_t seed, std::size_t index) noexcept;

/// The canonical SPEC text: parse_fault_spec(to_string(f)) == f for every valid f. `error` on a
/// machine-level target prints as `fire`; probabilities print in their shortest exact form.
[[nodiscard]] std::string to_string(const FaultSpec& spec);

}  // namespace ws
