// Fault-spec parsing: "TARGET=BEHAVIOUR@WHEN" -> FaultSpec, strict, with messages that list what
// would have been valid.
#include "waferscan/sim/fault_spec.hpp"

#include "base/splitmix.hpp"
#include "waferscan/error.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

namespace ws {

namespace {

constexpr std::array<std::pair<std::string_view, FaultTarget>, 11> kTargets{{
    {"camera.capture", FaultTarget::camera_capture},
    {"camera.abort", FaultTarget::camera_abort},
    {"stage.move", FaultTarget::stage_move},
    {"stage.stop", FaultTarget::stage_stop},
    {"stage.park", FaultTarget::stage_park},
    {"light.on", FaultTarget::light_on},
    {"light.off", FaultTarget::light_off},
    {"machine.estop", FaultTarget::machine_estop},
    {"store.write", FaultTarget::store_write},
    {"frame.corrupt", FaultTarget::frame_corrupt},
    {"machine.overheat", FaultTarget::machine_overheat},
}};

constexpr std::uint32_t kMaxSlowMs = 3'600'000;  // an hour: longer is a hang, say so

constexpr std::string_view kForm =
    "expected TARGET=BEHAVIOUR@WHEN (e.g. camera.capture=hang@site:3)";
constexpr std::string_view kTargetList =
    "camera.capture, camera.abort, stage.move, stage.stop, stage.park, light.on, light.off, "
    "machine.estop, store.write, frame.corrupt, machine.overheat";
constexpr std::string_view kDeviceBehaviours = "hang, slow:MS, error, ignore_abort";
constexpr std::string_view kWhenList =
    "site:N (0-based site index), call:N (1-based call number) or p:P (probability in (0, 1])";

std::string quoted(std::string_view s) {
  std::string out = "'";
  out.append(s).append("'");
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n";
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

// Digits only (no sign, no blanks), no overflow of uint32.
bool parse_uint(std::string_view text, std::uint32_t& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool parse_probability(std::string_view text, double& out) {
  // from_chars also accepts "inf", "nan" and a leading '-': the range check below rejects them.
  if (text.empty() || text.front() == '+') return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && out > 0.0 && out <= 1.0;
}

bool accepts_ignore_abort(FaultTarget t) noexcept {
  // The lamp has no abort path, so there is nothing for it to ignore.
  return is_device_call(t) && t != FaultTarget::light_on && t != FaultTarget::light_off;
}

// One parse: the spec text and where it came from (the command line or a recipe's faults[k]).
class SpecParser {
 public:
  SpecParser(std::string_view spec, const std::string& file, int line, const std::string& key)
      : spec_(spec), file_(file), line_(line), key_(key) {}

  FaultSpec parse() const {
    if (spec_.empty()) fail(std::string(kForm) + ", got an empty string");
    const auto eq = spec_.find('=');
    const auto at = spec_.rfind('@');
    if (eq == std::string_view::npos || at == std::string_view::npos || at < eq) {
      fail(kForm);
    }
    FaultSpec f;
    f.target = target(spec_.substr(0, eq));
    behaviour(spec_.substr(eq + 1, at - eq - 1), f);
    when(spec_.substr(at + 1), f);
    if (f.target == FaultTarget::light_on && f.when == FaultWhen::site) {
      // The lamp goes on once, for whichever site is acquired first, before its stage is there:
      // no light-on call is made at a site, so site:N would never fire.
      fail(
          "light.on is switched once per run, before the first capture, not at a site: site:N "
          "would never fire; use call:1");
    }
    return f;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    std::string message = "bad fault spec '";
    message.append(spec_).append("': ").append(what);
    throw ConfigError(file_, line_, key_, message);
  }

  FaultTarget target(std::string_view text) const {
    for (const auto& [name, target] : kTargets)
      if (name == text) return target;
    std::string what = "unknown target " + quoted(text) + "; expected one of ";
    what.append(kTargetList);
    fail(what);
  }

  void behaviour(std::string_view text, FaultSpec& f) const {
    const bool device = is_device_call(f.target);
    const std::string target(to_string(f.target));
    if (text == "hang" || text == "ignore_abort" || text.starts_with("slow")) {
      if (!device) {
        fail(quoted(text) + " is for device calls; " + target + " expects 'fire' (or 'error')");
      }
      if (text == "hang") {
        f.behaviour = FaultBehaviour::hang;
      } else if (text == "ignore_abort") {
        if (!accepts_ignore_abort(f.target)) {
          fail("'ignore_abort' needs an abort path; " + target +
               " has none (valid on camera.capture, camera.abort, stage.move, "
               "stage.park, stage.stop)");
        }
        f.behaviour = FaultBehaviour::ignore_abort;
      } else {
        const std::string_view ms = text.starts_with("slow:") ? text.substr(5) : std::string_view{};
        if (!parse_uint(ms, f.slow_ms) || f.slow_ms < 1 || f.slow_ms > kMaxSlowMs) {
          fail("expected slow:MS with MS a whole number of milliseconds in [1, " +
               std::to_string(kMaxSlowMs) + "], got " + quoted(text));
        }
        f.behaviour = FaultBehaviour::slow;
      }
      return;
    }
    if (text == "error") {
      f.behaviour = device ? FaultBehaviour::error : FaultBehaviour::fire;
      return;
    }
    if (text == "fire") {
      if (device) {
        std::string what =
            "'fire' is for machine.estop, store.write, frame.corrupt and machine.overheat; " +
            target + " expects one of ";
        what.append(kDeviceBehaviours);
        fail(what);
      }
      f.behaviour = FaultBehaviour::fire;
      return;
    }
    std::string what = "unknown behaviour " + quoted(text) + " for " + target + "; expected ";
    if (device) {
      what.append("one of ").append(kDeviceBehaviours);
    } else {
      what.append("'fire' (or 'error')");
    }
    fail(what);
  }

  void when(std::string_view text, FaultSpec& f) const {
    const auto colon = text.find(':');
    const std::string_view kind = text.substr(0, colon);
    const std::string_view arg =
        colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (kind == "site") {
      f.when = FaultWhen::site;
      if (!parse_uint(arg, f.n) ||
          f.n > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
        fail("expected site:N with N a 0-based site index, got " + quoted(text));
    } else if (kind == "call") {
      f.when = FaultWhen::call;
      if (!parse_uint(arg, f.n) || f.n < 1)
        fail("expected call:N with N a call number from 1, got " + quoted(text));
    } else if (kind == "p") {
      f.when = FaultWhen::probability;
      f.n = 0;
      if (!parse_probability(arg, f.p))
        fail("expected p:P with P a probability in (0, 1], got " + quoted(text));
    } else {
      std::string what = "unknown WHEN " + quoted(text) + "; expected ";
      what.append(kWhenList);
      fail(what);
    }
  }

  std::string_view spec_;
  const std::string& file_;
  int line_;
  const std::string& key_;
};

}  // namespace

bool is_device_call(FaultTarget target) noexcept {
  switch (target) {
    case FaultTarget::machine_estop:
    case FaultTarget::store_write:
    case FaultTarget::frame_corrupt:
    case FaultTarget::machine_overheat:
      return false;
    default:
      return true;
  }
}

std::string_view to_string(FaultTarget target) noexcept {
  for (const auto& [name, t] : kTargets)
    if (t == target) return name;
  return "?";
}

std::string_view to_string(FaultBehaviour behaviour) noexcept {
  switch (behaviour) {
    case FaultBehaviour::hang:
      return "hang";
    case FaultBehaviour::slow:
      return "slow";
    case FaultBehaviour::error:
      return "error";
    case FaultBehaviour::ignore_abort:
      return "ignore_abort";
    case FaultBehaviour::fire:
      return "fire";
  }
  return "?";
}

FaultSpec parse_fault_spec(std::string_view text) {
  return parse_fault_spec(text, "", 0, "--inject");
}

FaultSpec parse_fault_spec(std::string_view text, const std::string& file, int line,
                           const std::string& key) {
  return SpecParser(trim(text), file, line, key).parse();
}

double FaultMatcher::draw(std::uint64_t call) const noexcept {
  return unit_double(mix64(salt_ ^ mix64(call)));
}

std::uint64_t fault_salt(std::uint64_t seed, std::size_t index) noexcept {
  constexpr std::uint64_t kFaultSalt = 0xFA0170000ULL;
  return mix64(mix64(seed ^ kFaultSalt) ^ index);
}

std::string to_string(const FaultSpec& spec) {
  std::string out(to_string(spec.target));
  out.push_back('=');
  const FaultBehaviour b = !is_device_call(spec.target) && spec.behaviour == FaultBehaviour::error
                               ? FaultBehaviour::fire
                               : spec.behaviour;
  out.append(to_string(b));
  if (b == FaultBehaviour::slow) out.append(":").append(std::to_string(spec.slow_ms));
  out.push_back('@');
  switch (spec.when) {
    case FaultWhen::site:
      out.append("site:").append(std::to_string(spec.n));
      break;
    case FaultWhen::call:
      out.append("call:").append(std::to_string(spec.n));
      break;
    case FaultWhen::probability: {
      std::array<char, 32> buf{};
      // Shortest text that reads back to the same double: the round trip is exact.
      const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), spec.p);
      out.append("p:").append(buf.data(), ec == std::errc{} ? ptr : buf.data());
      break;
    }
  }
  return out;
}

}  // namespace ws
