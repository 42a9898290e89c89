// UTF-8 validity: every text the tool stores (recipe, site and set names) must be UTF-8, because
// the JSON outputs (runs --json, exports, events) can only carry UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ws {

/// The offset of the first byte of `text` that does not begin a well-formed UTF-8 sequence
/// (overlong forms, surrogates and code points past U+10FFFF are ill-formed); nullopt when all of
/// it is well-formed.
std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept;

}  // namespace ws
