#pragma once
// One synthfarm run as the integration tests drive it: its own instance name and control FIFO
// in a temporary directory, start-up parsing, FIFO commands, and the end-of-run check that
// nothing is left behind. Header-only: it uses GoogleTest's assertions.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace synthfarm::testing {

class SynthfarmRun {
 public:
  explicit SynthfarmRun(const std::string& test_name)
      : name_(unique_instance_name(test_name)), control_(directory_.file("control")) {}

  // extra_environment: "NAME=value" entries added to the child's environment.
  void start(const std::vector<std::string>& arguments,
             const std::vector<std::string>& extra_environment = {}) {
    std::vector<std::string> argv{built_program("synthfarm"), "--name", name_, "--control",
                                  control_};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    process_ = std::make_unique<ChildProcess>(argv, extra_environment);
  }

  ChildProcess& process() { return *process_; }
  const std::string& control_path() const { return control_; }
  std::string file(const std::string& name) const { return directory_.file(name); }

  // Waits for the start-up report and returns the workers' pids from it.
  std::vector<pid_t> wait_for_workers(std::size_t count) {
    const std::regex control_line("synthfarm: control FIFO");
    EXPECT_TRUE(process_->wait_for_stdout(control_line, std::chrono::seconds(10)))
        << process_->stderr_text();
    std::vector<pid_t> pids;
    for (std::size_t w = 0; w < count; ++w) {
      const auto found = process_->wait_for_stdout(
          std::regex("synthfarm: worker " + std::to_string(w) + " pid ([0-9]+)"),
          std::chrono::seconds(10));
      EXPECT_TRUE(found) << "no start-up line for worker " << w;
      if (found) pids.push_back(std::stoi((*found)[1]));
    }
    return pids;
  }

  void send_command(const std::string& line) {
    const int fd = open(control_.c_str(), O_WRONLY | O_NONBLOCK);
    ASSERT_GE(fd, 0) << "cannot open the control FIFO " << control_;
    const std::string text = line + "\n";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }

  // Runs to the end; checks the exit code and that nothing of this instance is left: no
  // worker process, no shared memory, no FIFO.
  void expect_exit(int expected_exit_code, const std::vector<pid_t>& workers) {
    const auto exit_code = process_->wait_exit_code(std::chrono::seconds(60));
    ASSERT_TRUE(exit_code.has_value()) << "synthfarm did not exit within 60 s";
    EXPECT_EQ(*exit_code, expected_exit_code) << "stderr: " << process_->stderr_text();
    for (pid_t pid : workers) {
      EXPECT_FALSE(process_alive(pid)) << "worker pid " << pid << " outlived the run";
    }
    EXPECT_TRUE(shm_entries("synthfarm-" + name_ + "-").empty())
        << "shared memory of instance " << name_ << " left in /dev/shm";
    struct stat status {};
    EXPECT_NE(lstat(control_.c_str(), &status), 0) << "control FIFO left at " << control_;
  }

 private:
  TempDir directory_;
  std::string name_;
  std::string control_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace synthfarm::testing
