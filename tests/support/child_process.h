#pragma once
// Runs a program under test as a child process, capturing its stdout and stderr, for the
// integration tests. Never hangs a test: every wait has a timeout, and the destructor kills
// and reaps a child that is still running.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"  // unique_instance_name, TempDir

namespace synthfarm::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`, environment = ours plus `extra_environment` ("NAME=value").
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::vector<std::string>& extra_environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits for the child to exit. Returns its wait status, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Exit code if it exited normally, -signal if killed, nullopt on timeout.
  std::optional<int> wait_exit_code(std::chrono::milliseconds timeout);

  void send_signal(int signal_number);

  // Waits until stdout (or stderr) holds a match for `pattern`; returns the first match's
  // captures as strings (index 0: the whole match), or nullopt on timeout.
  std::optional<std::vector<std::string>> wait_for_stdout(const std::regex& pattern,
                                                          std::chrono::milliseconds timeout);
  std::optional<std::vector<std::string>> wait_for_stderr(const std::regex& pattern,
                                                          std::chrono::milliseconds timeout);

  std::string stdout_text();
  std::string stderr_text();

 private:
  std::optional<std::vector<std::string>> wait_for(std::string ChildProcess::*stream,
                                                   const std::regex& pattern,
                                                   std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string stdout_;
  std::string stderr_;
  int open_streams_ = 2;
  std::vector<std::thread> readers_;
};

// Path of a built executable (the build directory is passed in by CMake).
std::string built_program(const std::string& name);

// Entries of /dev/shm whose name starts with `prefix`.
std::vector<std::string> shm_entries(const std::string& prefix);

// Removes what a test's private JACK server `server_name` leaves in /dev/shm after it stopped:
// jackd does not always remove its clients' semaphores (jack_sem.<uid>_<server>_<client>), and a
// killed one removes nothing. Only for a server name nobody else uses. Thread: the test's.
void remove_jack_server_leftovers(const std::string& server_name);

// True if a process with this pid exists (and is not a zombie).
bool process_alive(pid_t pid);

}  // namespace synthfarm::testing
