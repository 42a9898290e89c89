// The test seam of a run's graph: a probe called at every node entry and device call.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace ws {

/// Called at the entry of every node body (and around each device call of an acquisition, and
/// before each safe-stop step) with a point name and the site's sequence number: handshakes and
/// injected failures in tests. Must not block for long.
using NodeProbe = std::function<void(std::string_view point, std::size_t seq)>;

}  // namespace ws
