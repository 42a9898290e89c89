// Wall-clock timestamps as stored: ISO-8601 UTC with milliseconds.
#pragma once

#include <chrono>
#include <string>

namespace ws::store {

/// "2024-05-01T12:34:56.789Z".
[[nodiscard]] std::string iso8601_utc(std::chrono::system_clock::time_point t);
[[nodiscard]] std::string iso8601_utc_now();

}  // namespace ws::store
