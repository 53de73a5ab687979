// The instance's lock, the segment's name, the control FIFO and stale reclaim, with real
// files in a temporary directory and /dev/shm, and no other process: whatever path a run
// takes, everything is released, names first and the lock last.
#include "coordinator/supervision/instance_resources.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

class InstanceResourcesTest : public ::testing::Test {
 protected:
  std::unique_ptr<InstanceResources> acquire(const std::string& control_path) {
    notice_.clear();
    error_.clear();
    return InstanceResources::acquire(name_, control_path, notice_, error_);
  }
  std::unique_ptr<InstanceResources> acquire() { return acquire(control_path_); }

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

}  // namespace
}  // namespace synthfarm
