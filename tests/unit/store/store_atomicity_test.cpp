// A store that fails part-way changes nothing: a site whose defect insert fails keeps its previous
// row and defects, and a run whose site list is bad is not created at all.
#include "store_fixture.hpp"

#include "waferscan/error.hpp"
#include "waferscan/store.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ws {
namespace {

using test::StoreTest;

// Fails any defect insert whose class is 'boom', as a full disk or a crash mid-site would.
constexpr const char* kFailingTrigger =
    "CREATE TRIGGER fail_defect BEFORE INSERT ON defects WHEN NEW.class_name = 'boom' "
    "BEGIN SELECT RAISE(ABORT, 'injected defect insert failure'); END";

TEST_F(StoreTest, FailedDefectInsertLeavesTheStoredSiteUnchanged) {
  Store store(path_);
  const auto sites = make_sites(2);
  const RunId id = store.create_run(make_run(), sites);
  SiteResult good = make_result(sites[0], SiteStatus::done,
                                {make_defect(1, "particle"), make_defect(2, "scratch")});
  store.store_site(id, good);

  // The second defect violates CHECK (confidence <= 1): the whole site must roll back.
  SiteResult bad = make_result(sites[0], SiteStatus::error,
                               {make_defect(7, "residue"), make_defect(8, "pattern", 1.5)});
  bad.reason = "should not be stored";
  bad.align_dx = 99;
  try {
    store.store_site(id, bad);
    FAIL() << "stored a defect with confidence 1.5";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path_.string()), std::string::npos) << what;
    EXPECT_NE(what.find("CHECK constraint failed"), std::string::npos) << what;
  }
  EXPECT_EQ(bad.defects[0].id, -1);  // ids are written back only after a commit

  const auto stored = store.sites(id);
  EXPECT_EQ(stored[0].status, SiteStatus::done);
  EXPECT_EQ(stored[0].reason, "");
  EXPECT_EQ(stored[0].align_dx, -3);
  ASSERT_EQ(stored[0].defects.size(), 2U);
  EXPECT_EQ(stored[0].defects[0].id, good.defects[0].id);
  EXPECT_EQ(stored[0].defects[0].class_name, "particle");
  EXPECT_EQ(stored[0].defects[1].id, good.defects[1].id);
  const RunRecord run = *store.run(id);
  EXPECT_EQ(run.defects, 2);
  EXPECT_EQ(run.sites.done, 1);
  EXPECT_EQ(run.sites.error, 0);

  // The store is still usable after the failure.
  SiteResult next = make_result(sites[1], SiteStatus::done, {make_defect(3, "particle")});
  store.store_site(id, next);
  EXPECT_EQ(store.run(id)->defects, 3);
}

TEST_F(StoreTest, InjectedInsertFailureLeavesANotStartedSiteNotStarted) {
  Store store(path_);
  const auto sites = make_sites(1);
  const RunId id = store.create_run(make_run(), sites);
  raw_exec(kFailingTrigger);  // from another connection, as another process would

  SiteResult r =
      make_result(sites[0], SiteStatus::done, {make_defect(1, "particle"), make_defect(2, "boom")});
  try {
    store.store_site(id, r);
    FAIL() << "the trigger did not fire";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("injected defect insert failure"), std::string::npos)
        << e.what();
  }
  auto stored = store.sites(id);
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_EQ(stored[0].status, SiteStatus::not_started);
  EXPECT_TRUE(stored[0].defects.empty());
  EXPECT_EQ(raw_query("SELECT COUNT(*) FROM defects"), "0");
  EXPECT_EQ(store.count_sites(id).done, 0);

  raw_exec("DROP TRIGGER fail_defect");
  store.store_site(id, r);  // the same site stores cleanly once the fault is gone
  stored = store.sites(id);
  EXPECT_EQ(stored[0].status, SiteStatus::done);
  EXPECT_EQ(stored[0].defects.size(), 2U);
}

TEST_F(StoreTest, CreateRunWithDuplicateSiteIndexCreatesNothing) {
  Store store(path_);
  auto sites = make_sites(3);
  sites[2].index = 1;
  EXPECT_THROW((void)store.create_run(make_run(), sites), StoreError);
  EXPECT_TRUE(store.runs().empty());
  EXPECT_EQ(raw_query("SELECT COUNT(*) FROM sites"), "0");
}

}  // namespace
}  // namespace ws
