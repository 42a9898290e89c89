#include "app/json_views.hpp"

namespace ws::app {

namespace {
nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json run_json(const RunRecord& run) {
  const bool stopped = run.graph_quiet_ms.has_value() || run.hardware_safe_ms.has_value();
  return {
      {"id", run.id},
      {"recipe", run.recipe_name},
      {"recipe_path", run.recipe_path},
      {"state", to_string(run.state)},
      {"stop_reason", run.stop_reason == StopReason::none
                          ? nlohmann::json(nullptr)
                          : nlohmann::json(std::string(to_string(run.stop_reason)))},
      {"started_at", run.started_at},
      {"ended_at", run.ended_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.ended_at)},
      {"sites",
       {{"total", run.sites.total},
        {"done", run.sites.done},
        {"incomplete", run.sites.incomplete},
        {"error", run.sites.error},
        {"unreliable", run.sites.unreliable},
        {"not_started", run.sites.not_started}}},
      {"defects", run.defects},
      {"stop_latency_ms",
       stopped ? nlohmann::json{{"graph_quiet", optional_number(run.graph_quiet_ms)},
                                {"hardware_safe", optional_number(run.hardware_safe_ms)}}
               : nlohmann::json(nullptr)},
      {"message", run.message},
      {"resume_count", run.resume_count},
      {"resumed_at",
       run.resumed_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.resumed_at)},
  };
}

nlohmann::json site_json(const SiteResult& site) {
  nlohmann::json defects = nlohmann::json::array();
  for (const auto& d : site.defects) {
    const auto& f = d.features;
    defects.push_back(
        {{"id", d.id},
         {"bbox", {f.bbox.x, f.bbox.y, f.bbox.x + f.bbox.width, f.bbox.y + f.bbox.height}},
         {"class", d.class_name},
         {"confidence", d.confidence},
         {"area_px", f.area_px},
         {"polarity", to_string(f.polarity)},
         {"contrast", f.contrast}});
  }
  nlohmann::json j = {{"index", site.site.index},
                      {"name", site.site.name},
                      {"die", {site.site.die_i, site.site.die_j}},
                      {"position_um", {site.site.x_um, site.site.y_um}},
                      {"status", to_string(site.status)},
                      {"defects", std::move(defects)}};
  if (!site.reason.empty()) j["reason"] = site.reason;
  return j;
}

nlohmann::json export_json(const RunRecord& run, const std::vector<SiteResult>& sites) {
  nlohmann::json out = {{"run", run_json(run)}, {"sites", nlohmann::json::array()}};
  for (const auto& s : sites) out["sites"].push_back(site_json(s));
  return out;
}

}  // namespace ws::app
