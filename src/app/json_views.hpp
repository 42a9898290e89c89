// JSON shapes of stored runs and sites, as printed by `show --json` and `export --format json`.
#pragma once

#include "waferscan/store.hpp"

#include <nlohmann/json.hpp>

namespace ws::app {

nlohmann::json run_json(const RunRecord& run);
nlohmann::json site_json(const SiteResult& site);
nlohmann::json export_json(const RunRecord& run, const std::vector<SiteResult>& sites);

}  // namespace ws::app
