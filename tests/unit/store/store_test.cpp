// The results store: runs, sites and defects read back as written; re-storing a site never
// duplicates defects; counts, state transitions, WAL and the schema version are persisted and
// visible to a second connection.
#include "store_fixture.hpp"

#include "store/schema.hpp"
#include "waferscan/error.hpp"
#include "waferscan/store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

#include <array>
#include <latch>
#include <regex>
#include <set>
#include <thread>

namespace ws {
namespace {

using test::StoreTest;

TEST_F(StoreTest, CreateRunStoresStartingRunWithAllSitesNotStarted) {
  Store store(path_);
  const auto sites = make_sites(5);
  const RunId id = store.create_run(make_run(), sites);
  EXPECT_GT(id, 0);

  const auto run = store.run(id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->id, id);
  EXPECT_EQ(run->recipe_name, "quick");
  EXPECT_EQ(run->recipe_path, "data/recipes/quick.yaml");
  EXPECT_EQ(run->state, RunState::starting);
  EXPECT_EQ(run->stop_reason, StopReason::none);
  EXPECT_TRUE(
      std::regex_match(run->started_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << run->started_at;
  EXPECT_TRUE(run->ended_at.empty());
  EXPECT_EQ(run->owner_pid, ::getpid());
  EXPECT_EQ(run->sites.total, 5);
  EXPECT_EQ(run->sites.not_started, 5);
  EXPECT_EQ(run->defects, 0);
  EXPECT_FALSE(run->graph_quiet_ms.has_value());

  const auto stored = store.sites(id);
  ASSERT_EQ(stored.size(), 5U);
  for (std::size_t k = 0; k < stored.size(); ++k) {
    EXPECT_EQ(stored[k].site.index, sites[k].index);
    EXPECT_EQ(stored[k].site.name, sites[k].name);
    EXPECT_EQ(stored[k].site.die_i, sites[k].die_i);
    EXPECT_DOUBLE_EQ(stored[k].site.x_um, sites[k].x_um);
    EXPECT_DOUBLE_EQ(stored[k].site.y_um, sites[k].y_um);
    EXPECT_EQ(stored[k].status, SiteStatus::not_started);
    EXPECT_TRUE(stored[k].defects.empty());
  }
  EXPECT_FALSE(store.run(id + 1).has_value());
}

TEST_F(StoreTest, SitesAndDefectsReadBackFieldByField) {
  Store store(path_);
  const auto sites = make_sites(3);
  const RunId id = store.create_run(make_run(), sites);

  SiteResult r = make_result(sites[1], SiteStatus::done,
                             {make_defect(10, "particle", 0.5), make_defect(40, "scratch", 1.0)});
  store.store_site(id, r);
  EXPECT_EQ(r.defects[0].id, 1);  // ids are assigned by the store and written back
  EXPECT_EQ(r.defects[1].id, 2);

  SiteResult e = make_result(sites[2], SiteStatus::error);
  e.reason = "camera timeout";
  store.store_site(id, e);

  const auto stored = store.sites(id);
  ASSERT_EQ(stored.size(), 3U);
  EXPECT_EQ(stored[0].status, SiteStatus::not_started);
  const SiteResult& got = stored[1];
  EXPECT_EQ(got.status, SiteStatus::done);
  EXPECT_EQ(got.align_dx, -3);
  EXPECT_EQ(got.align_dy, 4);
  EXPECT_DOUBLE_EQ(got.align_confidence, 0.9);
  ASSERT_EQ(got.defects.size(), 2U);
  for (std::size_t k = 0; k < 2; ++k) {
    const Defect& want = r.defects[k];
    const Defect& have = got.defects[k];
    EXPECT_EQ(have.id, want.id);
    EXPECT_EQ(have.features.bbox, want.features.bbox);
    EXPECT_EQ(have.features.area_px, want.features.area_px);
    EXPECT_EQ(have.features.centroid, want.features.centroid);
    EXPECT_DOUBLE_EQ(have.features.elongation, want.features.elongation);
    EXPECT_DOUBLE_EQ(have.features.fill, want.features.fill);
    EXPECT_EQ(have.features.polarity, want.features.polarity);
    EXPECT_DOUBLE_EQ(have.features.contrast, want.features.contrast);
    EXPECT_DOUBLE_EQ(have.features.max_contrast, want.features.max_contrast);
    EXPECT_EQ(have.class_name, want.class_name);
    EXPECT_DOUBLE_EQ(have.confidence, want.confidence);
  }
  EXPECT_EQ(stored[2].status, SiteStatus::error);
  EXPECT_EQ(stored[2].reason, "camera timeout");
}

TEST_F(StoreTest, StoringASiteTwiceKeepsOneCopyOfItsDefects) {
  Store store(path_);
  const auto sites = make_sites(2);
  const RunId id = store.create_run(make_run(), sites);
  SiteResult other = make_result(sites[0], SiteStatus::done, {make_defect(1, "particle")});
  store.store_site(id, other);

  SiteResult first = make_result(sites[1], SiteStatus::done,
                                 {make_defect(10, "particle"), make_defect(20, "residue")});
  store.store_site(id, first);
  SiteResult again = make_result(sites[1], SiteStatus::done,
                                 {make_defect(10, "particle"), make_defect(20, "residue")});
  store.store_site(id, again);

  const auto stored = store.sites(id);
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_EQ(stored[0].defects.size(), 1U);
  EXPECT_EQ(stored[1].defects.size(), 2U);
  EXPECT_EQ(store.run(id)->defects, 3);

  // Ids stay unique in the run across sites and re-stores.
  std::set<int> ids;
  for (const auto& s : stored) {
    for (const auto& d : s.defects) EXPECT_TRUE(ids.insert(d.id).second) << d.id;
  }
  EXPECT_EQ(stored[1].defects[0].id, again.defects[0].id);
}

TEST_F(StoreTest, DefectIdsAreUniquePerRunAndRestartInANewRun) {
  Store store(path_);
  const auto sites = make_sites(2);
  const RunId a = store.create_run(make_run(), sites);
  const RunId b = store.create_run(make_run(), sites);
  SiteResult a0 =
      make_result(sites[0], SiteStatus::done, {make_defect(1, "x"), make_defect(2, "y")});
  SiteResult a1 = make_result(sites[1], SiteStatus::done, {make_defect(3, "x")});
  SiteResult b0 = make_result(sites[0], SiteStatus::done, {make_defect(1, "x")});
  store.store_site(a, a0);
  store.store_site(a, a1);
  store.store_site(b, b0);
  EXPECT_EQ(a0.defects[1].id, 2);
  EXPECT_EQ(a1.defects[0].id, 3);
  EXPECT_EQ(b0.defects[0].id, 1);
}

TEST_F(StoreTest, CountsFollowSiteStatusesAndFinishRunRecounts) {
  Store store(path_);
  const auto sites = make_sites(6);
  const RunId id = store.create_run(make_run(), sites);
  SiteResult s0 =
      make_result(sites[0], SiteStatus::done, {make_defect(1, "a"), make_defect(2, "b")});
  SiteResult s1 = make_result(sites[1], SiteStatus::done);
  SiteResult s2 = make_result(sites[2], SiteStatus::error);
  SiteResult s3 = make_result(sites[3], SiteStatus::incomplete);
  for (SiteResult* s : {&s0, &s1, &s2, &s3}) store.store_site(id, *s);

  const SiteCounts c = store.count_sites(id);
  EXPECT_EQ(c.total, 6);
  EXPECT_EQ(c.done, 2);
  EXPECT_EQ(c.error, 1);
  EXPECT_EQ(c.incomplete, 1);
  EXPECT_EQ(c.not_started, 2);

  store.set_state(id, RunState::running);
  store.set_state(id, RunState::stopping, StopReason::operator_request);
  store.finish_run(id, RunState::canceled, StopReason::operator_request, 12.5, 80.25);
  const RunRecord run = *store.run(id);
  EXPECT_EQ(run.state, RunState::canceled);
  EXPECT_EQ(run.stop_reason, StopReason::operator_request);
  EXPECT_EQ(run.sites.total, 6);
  EXPECT_EQ(run.sites.done, 2);
  EXPECT_EQ(run.sites.error, 1);
  EXPECT_EQ(run.sites.incomplete, 1);
  EXPECT_EQ(run.sites.not_started, 2);
  EXPECT_EQ(run.defects, 2);
  ASSERT_TRUE(run.graph_quiet_ms.has_value());
  EXPECT_DOUBLE_EQ(*run.graph_quiet_ms, 12.5);
  ASSERT_TRUE(run.hardware_safe_ms.has_value());
  EXPECT_DOUBLE_EQ(*run.hardware_safe_ms, 80.25);
  EXPECT_FALSE(run.ended_at.empty());
  EXPECT_GE(run.ended_at, run.started_at);
}

TEST_F(StoreTest, StateTransitionsArePersistedAndKeepTheStopReason) {
  RunId id = 0;
  {
    Store store(path_);
    id = store.create_run(make_run(), make_sites(1));
    store.set_state(id, RunState::running);
  }
  {
    Store store(path_);  // a fresh connection reads what the last one committed
    EXPECT_EQ(store.run(id)->state, RunState::running);
    store.set_state(id, RunState::stopping, StopReason::emergency_stop, "interlock opened");
  }
  {
    Store store(path_);
    RunRecord r = *store.run(id);
    EXPECT_EQ(r.state, RunState::stopping);
    EXPECT_EQ(r.stop_reason, StopReason::emergency_stop);
    EXPECT_EQ(r.message, "interlock opened");
    // A later transition without a reason or message keeps the earlier ones.
    store.set_state(id, RunState::stopping);
    r = *store.run(id);
    EXPECT_EQ(r.stop_reason, StopReason::emergency_stop);
    EXPECT_EQ(r.message, "interlock opened");
    store.finish_run(id, RunState::canceled, StopReason::emergency_stop, std::nullopt, 3.0);
  }
  Store store(path_);
  const RunRecord r = *store.run(id);
  EXPECT_EQ(r.state, RunState::canceled);
  EXPECT_FALSE(r.graph_quiet_ms.has_value());
  EXPECT_EQ(r.message, "interlock opened");
}

TEST_F(StoreTest, UnknownRunAndNonTerminalFinishAreStoreErrors) {
  Store store(path_);
  EXPECT_THROW(store.set_state(42, RunState::running), StoreError);
  EXPECT_THROW(store.finish_run(42, RunState::completed, StopReason::none, {}, {}), StoreError);
  const RunId id = store.create_run(make_run(), make_sites(1));
  EXPECT_THROW(store.finish_run(id, RunState::running, StopReason::none, {}, {}), StoreError);
  SiteResult r = make_result(make_sites(1)[0], SiteStatus::done);
  EXPECT_THROW(store.store_site(id + 1, r), StoreError);  // foreign key: no such run
}

TEST_F(StoreTest, RunsAreListedInOrderOfCreation) {
  Store store(path_);
  const RunId a = store.create_run(make_run("a"), make_sites(1));
  const RunId b = store.create_run(make_run("b"), make_sites(2));
  const auto runs = store.runs();
  ASSERT_EQ(runs.size(), 2U);
  EXPECT_EQ(runs[0].id, a);
  EXPECT_EQ(runs[0].recipe_name, "a");
  EXPECT_EQ(runs[1].id, b);
  EXPECT_EQ(runs[1].sites.total, 2);
}

TEST_F(StoreTest, EventsAreAppendedToTheRunJournal) {
  Store store(path_);
  const RunId id = store.create_run(make_run(), make_sites(1));
  store.append_event(id, "state", R"({"state":"Starting"})");
  store.append_event(id, "site", R"({"index":0})");
  EXPECT_EQ(raw_query("SELECT COUNT(*) FROM run_events WHERE run_id = " + std::to_string(id)), "2");
  EXPECT_EQ(raw_query("SELECT type FROM run_events ORDER BY id DESC LIMIT 1"), "site");
  EXPECT_THROW(store.append_event(id + 7, "x", "{}"), StoreError);
}

TEST_F(StoreTest, DatabaseIsInWalModeWithASchemaVersion) {
  { Store store(path_); }
  EXPECT_EQ(raw_query("PRAGMA journal_mode"), "wal");  // WAL is persistent in the file
  EXPECT_EQ(raw_query("PRAGMA user_version"), std::to_string(store::kSchemaVersion));
  Store reopened(path_);  // reopening an existing database accepts its version
  EXPECT_TRUE(reopened.runs().empty());
}

TEST_F(StoreTest, NewerSchemaVersionIsRefused) {
  { Store store(path_); }
  raw_exec("PRAGMA user_version = 99");
  try {
    Store store(path_);
    FAIL() << "opened a database with schema version 99";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path_.string()), std::string::npos) << what;
    EXPECT_NE(what.find("99"), std::string::npos) << what;
  }
}

// A path that cannot be a store is a usage error naming --db (exit 2), before SQLite sees it: a
// missing folder, a folder where the file should be, and, for a read, no file at all.
TEST_F(StoreTest, APathThatCannotBeAStoreIsAConfigErrorNamingDb) {
  const auto refusal = [](const std::filesystem::path& p, StoreAccess access) -> std::string {
    try {
      Store store(p, access);
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.file(), p.string());
      EXPECT_EQ(e.key(), "--db");
      return e.reason();
    }
    return "opened";
  };
  const auto missing_folder = dir_ / "no" / "such" / "dir" / "results.db";
  EXPECT_EQ(refusal(missing_folder, StoreAccess::write),
            "its folder " + missing_folder.parent_path().string() + " does not exist");
  EXPECT_EQ(refusal(dir_, StoreAccess::write), "is a directory, not a results store");
  EXPECT_EQ(refusal(dir_ / "none.db", StoreAccess::read),
            "no results store here (a command that only reads never creates one)");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.db")) << "a read created the store";
}

TEST_F(StoreTest, OpenFailureNamesThePath) {
  const auto bad = dir_ / "garbage.db";
  std::ofstream(bad) << std::string(8192, 'x');  // not a database
  try {
    Store store(bad);
    FAIL() << "opened " << bad;
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
  }
}

// A read connection reads what is stored and can write nothing.
TEST_F(StoreTest, AReadStoreReadsAndCannotWrite) {
  RunId id = 0;
  {
    Store writer(path_);
    id = writer.create_run(make_run(), make_sites(3));
  }
  Store reader(path_, StoreAccess::read);
  ASSERT_TRUE(reader.run(id).has_value());
  EXPECT_EQ(reader.count_sites(id).not_started, 3);
  EXPECT_THROW((void)reader.create_run(make_run(), make_sites(1)), StoreError);
  EXPECT_EQ(reader.runs().size(), 1u);
}

// Garbage written over a page of a store (a bad disk, a stray write) is found by the quick check
// at a write open: the store takes no new run, and says how to save what can be read.
TEST_F(StoreTest, AStoreWithGarbagePagesIsRefusedForWriting) {
  {
    Store writer(path_);
    for (int k = 0; k < 20; ++k) writer.create_run(make_run(), make_sites(50));
  }
  const auto size = std::filesystem::file_size(path_);
  ASSERT_GT(size, 4u * 4096u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(2 * 4096));  // page 3: past the header and schema
    const std::string garbage(4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  try {
    Store store(path_);
    FAIL() << "a damaged store was opened for writing";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("the store is damaged (PRAGMA quick_check:"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(".recover"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, TwoStoresOnOneFileSeeEachOthersCommits) {
  Store writer(path_);
  Store reader(path_);
  const RunId id = writer.create_run(make_run(), make_sites(3));
  ASSERT_TRUE(reader.run(id).has_value());
  EXPECT_EQ(reader.count_sites(id).not_started, 3);

  SiteResult r = make_result(make_sites(3)[2], SiteStatus::done, {make_defect(5, "particle")});
  writer.store_site(id, r);
  EXPECT_EQ(reader.count_sites(id).done, 1);
  EXPECT_EQ(reader.sites(id)[2].defects.size(), 1U);

  // And the other way round: the reader's writes reach the writer.
  reader.set_state(id, RunState::running);
  EXPECT_EQ(writer.run(id)->state, RunState::running);
  const RunId second = reader.create_run(make_run("second"), make_sites(1));
  EXPECT_EQ(writer.runs().size(), 2U);
  EXPECT_EQ(writer.run(second)->recipe_name, "second");
}

TEST_F(StoreTest, ConcurrentWritersOnOneFileWaitForEachOtherInsteadOfFailing) {
  constexpr int kSites = 40;
  { Store create(path_); }  // schema first, so both threads only write rows
  std::latch start(2);
  std::array<RunId, 2> ids{};
  std::array<std::string, 2> errors;
  auto writer = [&](int w) {
    bool arrived = false;  // a writer that fails early must still release the other one
    try {
      Store store(path_);
      const auto sites = make_sites(kSites);
      ids[w] = store.create_run(make_run("writer" + std::to_string(w)), sites);
      arrived = true;
      start.arrive_and_wait();  // both runs exist; now interleave site transactions
      for (const SiteSpec& site : sites) {
        SiteResult r =
            make_result(site, SiteStatus::done, {make_defect(1, "a"), make_defect(2, "b")});
        store.store_site(ids[w], r);
      }
    } catch (const std::exception& e) {
      errors[w] = e.what();
      if (!arrived) start.count_down();
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  Store store(path_);
  for (RunId id : ids) {
    const RunRecord run = *store.run(id);
    EXPECT_EQ(run.sites.done, kSites);
    EXPECT_EQ(run.defects, 2 * kSites);
  }
}

}  // namespace
}  // namespace ws
