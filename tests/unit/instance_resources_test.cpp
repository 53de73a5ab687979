// The instance's lock, the segment's name, the control FIFO and stale reclaim, with real
// files in a temporary directory and /dev/shm, and no other process: whatever path a run
// takes, everything is released, names first and the lock last.
#include "coordinator/supervision/instance_resources.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace synthfarm {
namespace {

// No process can have this pid: it is above the kernel's highest (PID_MAX_LIMIT, 2^22).
constexpr long kImpossiblePid = (1L << 22) + 1;

bool is_fifo(const std::string& path) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0 && S_ISFIFO(status.st_mode);
}

bool exists(const std::string& path) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0;
}

// XDG_RUNTIME_DIR pointed at a fresh directory for one test, as it was afterwards: the lock's
// private directory is then the test's own.
class ScopedRuntimeDirectory {
 public:
  ScopedRuntimeDirectory() {
    if (const char* old = std::getenv("XDG_RUNTIME_DIR")) saved_ = old;
    setenv("XDG_RUNTIME_DIR", runtime_.path().c_str(), 1);
  }
  ~ScopedRuntimeDirectory() {
    if (saved_) {
      setenv("XDG_RUNTIME_DIR", saved_->c_str(), 1);
    } else {
      unsetenv("XDG_RUNTIME_DIR");
    }
  }
  ScopedRuntimeDirectory(const ScopedRuntimeDirectory&) = delete;
  ScopedRuntimeDirectory& operator=(const ScopedRuntimeDirectory&) = delete;
  const testing::TempDir& directory() const { return runtime_; }
  std::string private_directory() const { return runtime_.file("synthfarm"); }

 private:
  testing::TempDir runtime_;
  std::optional<std::string> saved_;
};

class InstanceResourcesTest : public ::testing::Test {
 protected:
  std::unique_ptr<InstanceResources> acquire_as(const std::string& name,
                                                const std::string& control_path) {
    notice_.clear();
    error_.clear();
    return InstanceResources::acquire(name, control_path, notice_, error_);
  }
  std::unique_ptr<InstanceResources> acquire(const std::string& control_path) {
    notice_.clear();
    error_.clear();
    return InstanceResources::acquire(name_, control_path, notice_, error_);
  }
  std::unique_ptr<InstanceResources> acquire() { return acquire(control_path_); }

  ScopedRuntimeDirectory runtime_;
  const std::string name_ = testing::unique_instance_name(
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  testing::TempDir directory_;
  const std::string control_path_ = directory_.file("test.control");
  std::string notice_;
  std::string error_;
};

TEST_F(InstanceResourcesTest, HoldTheNameSoASecondInstanceOfItIsRefusedUntilReleased) {
  auto first = acquire();
  ASSERT_TRUE(first) << error_;
  EXPECT_FALSE(acquire(directory_.file("other.control")));
  EXPECT_NE(error_.find("another synthfarm instance named '" + name_ + "' is running (pid " +
                        std::to_string(getpid()) + ")"),
            std::string::npos)
      << error_;
  first.reset();
  EXPECT_TRUE(acquire()) << error_;
}

TEST_F(InstanceResourcesTest, NameTheSegmentAfterTheInstanceAndThisProcess) {
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  EXPECT_EQ(resources->segment_name(), "synthfarm-" + name_ + "-" + std::to_string(getpid()));
}

TEST_F(InstanceResourcesTest, RemoveTheFifoAndTheSegmentNameWhenReleased) {
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  const std::string shm_path = "/dev/shm/" + resources->segment_name();
  auto segment = resources->create_segment(1, 2, 1024, 4, error_);
  ASSERT_TRUE(segment) << error_;
  ASSERT_TRUE(resources->create_fifo(error_)) << error_;
  EXPECT_TRUE(is_fifo(control_path_));
  EXPECT_TRUE(exists(shm_path));
  resources.reset();
  EXPECT_FALSE(exists(control_path_));
  EXPECT_FALSE(exists(shm_path));
  EXPECT_EQ(segment->header().worker_count, 1u) << "the mapping outlives the name";
}

TEST_F(InstanceResourcesTest, ReleaseTheNamesBeforeTheLock) {
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  const std::string shm_path = "/dev/shm/" + resources->segment_name();
  auto segment = resources->create_segment(1, 2, 1024, 4, error_);
  ASSERT_TRUE(segment && resources->create_fifo(error_)) << error_;
  resources->release_names();
  EXPECT_FALSE(exists(control_path_));
  EXPECT_FALSE(exists(shm_path));
  EXPECT_FALSE(acquire()) << "the lock went before the process was done";
  resources->release_names();  // idempotent
  resources.reset();
  EXPECT_TRUE(acquire()) << error_;
}

TEST_F(InstanceResourcesTest, ASegmentNameRemovedEarlyIsNotRemovedAgain) {
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  auto segment = resources->create_segment(1, 2, 1024, 4, error_);
  ASSERT_TRUE(segment) << error_;
  ASSERT_TRUE(resources->remove_segment_name(error_)) << error_;
  EXPECT_FALSE(exists("/dev/shm/" + resources->segment_name()));
  // A new segment of the same name (the next run of this pid, say) is not ours to remove.
  auto next = Segment::create(resources->segment_name(), 1, 2, 1024, 4, error_);
  ASSERT_TRUE(next) << error_;
  resources.reset();
  EXPECT_TRUE(exists("/dev/shm/" + segment_name_for(name_, getpid())));
  EXPECT_TRUE(Segment::remove_name(segment_name_for(name_, getpid()), error_)) << error_;
}

TEST_F(InstanceResourcesTest, ReleaseEverythingWhenTheFifoCannotBeCreated) {
  auto resources = acquire(directory_.file("missing-directory/test.control"));
  ASSERT_TRUE(resources) << error_;
  const std::string shm_path = "/dev/shm/" + resources->segment_name();
  auto segment = resources->create_segment(1, 2, 1024, 4, error_);
  ASSERT_TRUE(segment) << error_;
  EXPECT_FALSE(resources->create_fifo(error_));
  EXPECT_NE(error_.find("cannot create the control FIFO"), std::string::npos) << error_;
  resources.reset();  // the early-failure path: the run gives up here
  EXPECT_FALSE(exists(shm_path));
  EXPECT_TRUE(acquire()) << error_;
}

TEST_F(InstanceResourcesTest, ReclaimAStaleFifoAndSaySo) {
  ASSERT_EQ(mkfifo(control_path_.c_str(), 0600), 0);
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  EXPECT_FALSE(exists(control_path_));
  EXPECT_NE(notice_.find("synthfarm: removed the stale control FIFO " + control_path_),
            std::string::npos)
      << notice_;
}

TEST_F(InstanceResourcesTest, RefuseAControlPathThatIsNotAFifoAndLetGoOfTheLock) {
  std::ofstream(control_path_) << "someone's file\n";
  EXPECT_FALSE(acquire());
  EXPECT_EQ(error_, "the control path " + control_path_ +
                        " exists and is not a FIFO; remove it or use --control");
  EXPECT_TRUE(exists(control_path_)) << "a file that is not a FIFO was removed";
  EXPECT_TRUE(acquire(directory_.file("other.control"))) << "the lock was kept: " << error_;
}

TEST_F(InstanceResourcesTest, ReclaimTheSegmentOfADeadCoordinatorAndSaySo) {
  const std::string stale = "synthfarm-" + name_ + "-" + std::to_string(kImpossiblePid);
  std::ofstream("/dev/shm/" + stale) << "a dead instance's segment";
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  const bool kept = exists("/dev/shm/" + stale);
  std::error_code ignored;  // gone already is what the test expects
  std::filesystem::remove("/dev/shm/" + stale, ignored);
  EXPECT_FALSE(kept);
  EXPECT_NE(notice_.find("synthfarm: removed stale shared memory /dev/shm/" + stale),
            std::string::npos)
      << notice_;
}

// Issue 13 item 1: a second instance of another name given the same --control path finds the
// first one's FIFO live (it has a reader): refused with the holder's pid, the FIFO untouched.
TEST_F(InstanceResourcesTest, ALiveFifoOfAnotherNameIsRefusedWithItsHolderAndKept) {
  auto first = acquire();
  ASSERT_TRUE(first && first->create_fifo(error_)) << error_;
  struct stat before {};
  ASSERT_EQ(lstat(control_path_.c_str(), &before), 0);
  EXPECT_FALSE(acquire_as(name_ + "-other", control_path_)) << "a live FIFO was taken over";
  EXPECT_NE(error_.find("the control FIFO " + control_path_ + " is in use by a running " +
                        "synthfarm (pid " + std::to_string(getpid()) + ")"),
            std::string::npos)
      << error_;
  struct stat after {};
  ASSERT_EQ(lstat(control_path_.c_str(), &after), 0) << "the live FIFO was removed";
  EXPECT_EQ(after.st_ino, before.st_ino) << "the live FIFO was replaced";
  EXPECT_TRUE(acquire_as(name_ + "-other", directory_.file("other.control")))
      << "the refused start kept its lock: " << error_;
}

// Issue 13 item 1: at exit an instance removes its own FIFO only, not one that another
// instance put at the same path since.
TEST_F(InstanceResourcesTest, AtExitAFifoThatIsNotOurOwnIsKept) {
  auto resources = acquire();
  ASSERT_TRUE(resources && resources->create_fifo(error_)) << error_;
  ASSERT_EQ(unlink(control_path_.c_str()), 0);
  ASSERT_EQ(mkfifo(control_path_.c_str(), 0600), 0);  // another instance's, say
  resources.reset();
  EXPECT_TRUE(is_fifo(control_path_)) << "another instance's FIFO was removed at exit";
}

// Issue 13 item 3: the lock is a file in a private directory; the abstract socket anyone could
// bind first (and so stop synthfarm from starting) is not used any more.
TEST_F(InstanceResourcesTest, ASquatterOnTheOldAbstractSocketDoesNotStopTheStart) {
  const int squatter = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(squatter, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = "synthfarm-" + std::to_string(getuid()) + "-" + name_;
  std::memcpy(address.sun_path + 1, text.data(), text.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + text.size());
  ASSERT_EQ(bind(squatter, reinterpret_cast<const sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(squatter, 1), 0);
  auto resources = acquire();
  close(squatter);
  EXPECT_TRUE(resources) << error_;
}

TEST_F(InstanceResourcesTest, TheLockIsAFileNamingItsHolderInADirectoryOnlyTheUserCanReach) {
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  struct stat status {};
  ASSERT_EQ(lstat(runtime_.private_directory().c_str(), &status), 0);
  EXPECT_TRUE(S_ISDIR(status.st_mode));
  EXPECT_EQ(status.st_mode & 07777, 0700u);
  EXPECT_EQ(status.st_uid, geteuid());
  const std::string lock_path = runtime_.private_directory() + "/" + name_ + ".lock";
  std::ifstream lock_file(lock_path);
  pid_t recorded = 0;
  lock_file >> recorded;
  EXPECT_EQ(recorded, getpid()) << "the lock file does not name its holder";
  resources.reset();
  EXPECT_FALSE(exists(lock_path)) << "the lock file outlived the instance";
  EXPECT_FALSE(exists(runtime_.private_directory())) << "the empty directory was left behind";
}

// Issue 13 item 3: a private directory that is not private is refused, with the path and the fix,
// and nothing is put into it.
TEST_F(InstanceResourcesTest, APrivateDirectoryOfTheWrongModeIsRefusedWithThePathAndTheFix) {
  ASSERT_EQ(mkdir(runtime_.private_directory().c_str(), 0700), 0);
  ASSERT_EQ(chmod(runtime_.private_directory().c_str(), 0755), 0);
  EXPECT_FALSE(acquire());
  EXPECT_NE(error_.find(runtime_.private_directory() + " has mode 0755"), std::string::npos)
      << error_;
  EXPECT_NE(error_.find("chmod 700 " + runtime_.private_directory()), std::string::npos) << error_;
  EXPECT_FALSE(exists(runtime_.private_directory() + "/" + name_ + ".lock"));
}

TEST_F(InstanceResourcesTest, APrivateDirectoryThatIsALinkIsRefused) {
  const std::string elsewhere = runtime_.directory().file("elsewhere");
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), runtime_.private_directory().c_str()), 0);
  EXPECT_FALSE(acquire());
  EXPECT_NE(error_.find(runtime_.private_directory() + " is a symbolic link"), std::string::npos)
      << error_;
  EXPECT_FALSE(exists(elsewhere + "/" + name_ + ".lock")) << "the link was followed";
}

// Issue 13 item 4: with the name's lock held, a segment of this instance is stale whatever its
// pid (a pid reused after a container restart is alive, yet not the segment's coordinator).
TEST_F(InstanceResourcesTest, ReclaimThisInstancesSegmentEvenWhenItsPidIsAlive) {
  const std::string stale = segment_name_for(name_, getppid());  // a live process
  std::ofstream("/dev/shm/" + stale) << "an earlier run's segment";
  auto resources = acquire();
  ASSERT_TRUE(resources) << error_;
  const bool kept = exists("/dev/shm/" + stale);
  std::error_code ignored;
  std::filesystem::remove("/dev/shm/" + stale, ignored);
  EXPECT_FALSE(kept) << "a segment of this instance blocked by a live pid was kept";
  EXPECT_NE(notice_.find("synthfarm: removed stale shared memory /dev/shm/" + stale),
            std::string::npos)
      << notice_;
}

// Issue 13 item 4: another instance's entry whose pid is alive stays.
TEST_F(InstanceResourcesTest, AnotherInstancesSegmentWithALivePidIsKept) {
  const std::string other = segment_name_for(name_ + "-x", getppid());
  std::ofstream("/dev/shm/" + other) << "a live instance's segment";
  auto resources = acquire();
  const bool kept = exists("/dev/shm/" + other);
  std::error_code ignored;
  std::filesystem::remove("/dev/shm/" + other, ignored);
  ASSERT_TRUE(resources) << error_;
  EXPECT_TRUE(kept);
}

}  // namespace
}  // namespace synthfarm
