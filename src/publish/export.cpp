#include "waferscan/export.hpp"

#include "base/output_file.hpp"
#include "publish/csv_export.hpp"
#include "publish/klarf.hpp"
#include "publish/run_geometry.hpp"
#include "publish/wafer_map.hpp"
#include "waferscan/error.hpp"

#include <sstream>

namespace ws {

namespace {
RunRecord find_run(Store& store, RunId id) {
  auto run = store.run(id);
  if (!run) throw ConfigError("", 0, "RUN_ID", "no run " + std::to_string(id));
  return *run;
}
}  // namespace

std::optional<ExportFormat> export_format_from_string(std::string_view name) noexcept {
  if (name == "klarf") return ExportFormat::klarf;
  if (name == "klarf12") return ExportFormat::klarf12;
  if (name == "csv") return ExportFormat::csv;
  if (name == "png") return ExportFormat::png;
  return std::nullopt;
}

void export_run(Store& store, RunId id, ExportFormat format, std::ostream& out) {
  const RunRecord run = find_run(store, id);
  const auto sites = store.sites(id);
  const auto geometry = publish::load_run_geometry(run, store.run_inputs(id));
  switch (format) {
    case ExportFormat::csv:
      publish::write_csv(out, run, sites, geometry);
      return;
    case ExportFormat::klarf:
    case ExportFormat::klarf12:
      publish::write_klarf(out, run, sites, geometry,
                           format == ExportFormat::klarf12 ? publish::KlarfVersion::v1_2
                                                           : publish::KlarfVersion::v1_8);
      return;
    case ExportFormat::png:
      break;
  }
  throw ConfigError("", 0, "--out", "--format png needs --out FILE");
}

void export_run(Store& store, RunId id, ExportFormat format, const std::filesystem::path& path) {
  if (format == ExportFormat::png) {
    const RunRecord run = find_run(store, id);
    publish::write_wafer_map_png(path, run, store.sites(id),
                                 publish::load_run_geometry(run, store.run_inputs(id)));
    return;
  }
  std::ostringstream text;  // all of it first: a run that cannot be exported leaves no file
  export_run(store, id, format, text);
  write_file_atomically(path, "--out", text.str(), Overwrite::replace);
}

}  // namespace ws
