// Resuming a run in the store: only Canceled/Interrupted runs reopen, done sites and their defects
// are kept, the rest go back to not_started, resumed_at/resume_count are recorded; a schema v1
// file is migrated to the current version with nothing lost.
#include "store_fixture.hpp"

#include "store/schema.hpp"
#include "waferscan/error.hpp"
#include "waferscan/store.hpp"

#include <gtest/gtest.h>

namespace ws {
namespace {

using test::StoreTest;

TEST_F(StoreTest, ResumeReopensNotDoneSitesAndKeepsDoneOnes) {
  Store store(path_);
  const auto sites = make_sites(4);
  RunRecord rec = make_run();
  rec.set_path = "/sets/a";
  rec.graph_path = "graphs/inspect.yaml";
  rec.model_path = "data/models/sim.json";
  const RunId id = store.create_run(rec, sites);
  SiteResult done = make_result(sites[0], SiteStatus::done, {make_defect(10, "particle")});
  store.store_site(id, done);
  SiteResult err = make_result(sites[1], SiteStatus::error);
  err.reason = "bad frame";
  store.store_site(id, err);
  SiteResult inc = make_result(sites[2], SiteStatus::incomplete);
  inc.reason = "abandoned by abort";
  store.store_site(id, inc);
  store.finish_run(id, RunState::canceled, StopReason::operator_request, 12.0, 30.0);

  const auto again = store.resume_run(id);
  ASSERT_EQ(again.size(), 3U);
  EXPECT_EQ(again[0].index, sites[1].index);
  EXPECT_EQ(again[1].index, sites[2].index);
  EXPECT_EQ(again[2].index, sites[3].index);
  EXPECT_EQ(again[0].name, sites[1].name);

  const auto run = store.run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->state, RunState::starting);
  EXPECT_EQ(run->stop_reason, StopReason::none);
  EXPECT_TRUE(run->ended_at.empty());
  EXPECT_FALSE(run->graph_quiet_ms.has_value());
  EXPECT_FALSE(run->resumed_at.empty());
  EXPECT_EQ(run->resume_count, 1);
  EXPECT_EQ(run->set_path, "/sets/a");
  EXPECT_EQ(run->graph_path, "graphs/inspect.yaml");
  EXPECT_EQ(run->model_path, "data/models/sim.json");
  EXPECT_EQ(run->sites.done, 1);
  EXPECT_EQ(run->sites.not_started, 3);
  EXPECT_EQ(run->defects, 1);
  const auto stored = store.sites(id);
  EXPECT_EQ(stored[0].defects.size(), 1U);
  EXPECT_TRUE(stored[1].reason.empty());

  // Resumed twice: counted twice.
  store.finish_run(id, RunState::canceled, StopReason::shutdown, std::nullopt, std::nullopt);
  (void)store.resume_run(id);
  EXPECT_EQ(store.run(id)->resume_count, 2);
}

TEST_F(StoreTest, OnlyCanceledOrInterruptedRunsResume) {
  Store store(path_);
  const auto sites = make_sites(2);
  const RunId running = store.create_run(make_run(), sites);
  EXPECT_THROW((void)store.resume_run(running), RunBusy);  // still Starting: another process's
  const RunId completed = store.create_run(make_run(), sites);
  store.finish_run(completed, RunState::completed, StopReason::none, std::nullopt, std::nullopt);
  EXPECT_THROW((void)store.resume_run(completed), StoreError);
  const RunId failed = store.create_run(make_run(), sites);
  store.finish_run(failed, RunState::failed, StopReason::fault, std::nullopt, std::nullopt);
  EXPECT_THROW((void)store.resume_run(failed), StoreError);
  EXPECT_THROW((void)store.resume_run(completed + 100), StoreError);
  EXPECT_EQ(store.run(completed)->state, RunState::completed);  // a refused resume changes nothing
}

TEST_F(StoreTest, SchemaV1FileIsMigratedWithNothingLost) {
  RunId id = 0;
  {
    Store store(path_);
    id = store.create_run(make_run(), make_sites(2));
  }
  // Turn the file back into a version 1 database: the v2 and v4 columns and the v5 table did not
  // exist then.
  for (const char* column :
       {"set_path", "graph_path", "model_path", "resumed_at", "resume_count", "sites_unreliable"}) {
    raw_exec(std::string("ALTER TABLE runs DROP COLUMN ") + column);
  }
  raw_exec("DROP TABLE run_inputs");
  raw_exec("PRAGMA user_version = 1");

  Store store(path_);
  EXPECT_EQ(raw_query("PRAGMA user_version"), std::to_string(store::kSchemaVersion));
  const auto run = store.run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->recipe_name, "quick");
  EXPECT_EQ(run->sites.total, 2);
  EXPECT_TRUE(run->set_path.empty());
  EXPECT_TRUE(run->resumed_at.empty());
  EXPECT_EQ(run->resume_count, 0);
}

}  // namespace
}  // namespace ws
