// Exports of a stored run: KLARF 1.8 and 1.2, CSV, and the wafer-map picture. The formats and
// their conventions are described in README.md ("Exports and the graph view").
#pragma once

#include "waferscan/store.hpp"

#include <filesystem>
#include <optional>
#include <ostream>
#include <string_view>

namespace ws {

enum class ExportFormat {
  klarf,    ///< KLARF 1.8 (nested records, integer nm)
  klarf12,  ///< KLARF 1.2 (flat keyword lines, um)
  csv,      ///< one row per defect, RFC 4180
  png,      ///< the wafer map, 1100 x 900 (a file only)
};
/// "klarf", "klarf12", "csv", "png"; nullopt for anything else.
[[nodiscard]] std::optional<ExportFormat> export_format_from_string(std::string_view name) noexcept;

/// Writes run `id` of `store` in `format` (not png) to `out`. The wafer and camera geometry come
/// from the run's recipe, or for a reprocessed run from its recorded set's manifest.
/// @throws ConfigError when the run does not exist, its recipe or set is gone, or `format` is png.
/// Thread safety: reads the store; safe beside a run that writes it.
/// @code
///   ws::Store store("waferscan.db");
///   ws::export_run(store, 1, ws::ExportFormat::csv, std::cout);
/// @endcode
void export_run(Store& store, RunId id, ExportFormat format, std::ostream& out);

/// The same into the file `path` (required for png), written atomically: to a temporary file
/// beside it, flushed, synced and renamed into place, replacing a file already there. Throws
/// ConfigError naming `path` when it is a directory or its folder is missing, OutputError when it
/// cannot be written (a full disk): the file at `path`, if any, is then untouched.
void export_run(Store& store, RunId id, ExportFormat format, const std::filesystem::path& path);

}  // namespace ws
