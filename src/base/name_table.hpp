// A fixed table of an enum's stable names, and the two lookups every enum's names use.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace ws::detail {

template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

/// The value named `name`, or nullopt for a name not in the table.
template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const NameTable<Enum, N>& table, std::string_view name) noexcept {
  for (const auto& [value, text] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

/// The name of `value`, or "unknown" for a value not in the table.
template <typename Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) noexcept {
  for (const auto& [v, text] : table) {
    if (v == value) return text;
  }
  return "unknown";
}

}  // namespace ws::detail
