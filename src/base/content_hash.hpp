// A content hash for telling whether a file is still the one a run was made from: 64-bit FNV-1a,
// written "fnv1a64:" and 16 hex digits. It detects edits, not tampering (it is not cryptographic).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

/// "fnv1a64:0123456789abcdef" of `bytes`.
std::string content_hash(std::string_view bytes);

/// The content hash of the file at `path`; nullopt when it cannot be read.
std::optional<std::string> file_content_hash(const std::filesystem::path& path);

}  // namespace ws
