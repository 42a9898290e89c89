// Pins down the owner lock files' housekeeping: a lock file left behind by a dead process (killed
// after it wrote its final state, so no recovery ever looks at it) is removed by the next process;
// a live owner's file, and files that are not owner locks, are never touched.
#include "store/run_owner.hpp"
#include "store_fixture.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace ws::test {
namespace {

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

class RunOwnerFiles : public StoreTest {};

TEST_F(RunOwnerFiles, ADeadProcesssLeftoverLockIsRemovedALiveOnesIsKept) {
  std::filesystem::path owners = path_;
  owners += ".owners";
  std::filesystem::create_directories(owners);
  const auto dead = owners / (std::to_string(dead_pid()) + "-1.lock");
  const auto live = owners / (std::to_string(::getpid()) + "-2.lock");
  const auto other = owners / "notes.txt";
  for (const auto& p : {dead, live, other}) std::ofstream(p) << "x";
  const int held = ::open(live.c_str(), O_RDWR | O_CLOEXEC);  // a live owner holds its lock
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX | LOCK_NB), 0);
  {
    const RunOwnerLock mine(path_);
    EXPECT_TRUE(std::filesystem::exists(mine.path()));
    EXPECT_FALSE(std::filesystem::exists(dead)) << "a dead process's lock file stayed behind";
    EXPECT_TRUE(std::filesystem::exists(live));
    EXPECT_TRUE(std::filesystem::exists(other));
  }
  ::close(held);
  EXPECT_TRUE(std::filesystem::exists(live)) << "its process (this one) is alive";
}

}  // namespace
}  // namespace ws::test
