// JSON as text for output: whatever a store holds (a name stored by an older version without
// UTF-8 validation), the output is valid JSON, ill-formed bytes becoming U+FFFD, never an
// exception that makes a whole store unreadable.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace ws {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ws
