#pragma once
// `synthfarm-bench capacity --background-load N`: N busy processes at normal priority beside
// the probes, as a user's compile or browser would be (issue 12 item 6 used `yes > /dev/null`,
// twice). Each is /usr/bin/yes writing to /dev/null: it burns a whole CPU in user and system
// time, as the reproduction did.
//
// Nothing is left behind: the destructor kills and reaps them; SIGINT, SIGTERM or SIGHUP has
// them killed and reaped before the bench dies (child_cleanup.h); and each gets SIGKILL from
// the kernel when this process dies any other way (PR_SET_PDEATHSIG).
//
// Thread: main (the one thread of synthfarm-bench; PR_SET_PDEATHSIG follows the thread that
// forks). Forks, makes syscalls.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace synthfarm::bench {

class BackgroundLoad {
 public:
  // Starts `processes` (0: none). False from started() with `error` when one could not start;
  // those that did are stopped by the destructor.
  BackgroundLoad(std::uint32_t processes, std::string& error);
  ~BackgroundLoad();
  BackgroundLoad(const BackgroundLoad&) = delete;
  BackgroundLoad& operator=(const BackgroundLoad&) = delete;

  bool started() const noexcept { return started_; }

 private:
  std::vector<pid_t> children_;
  bool started_ = true;
};

}  // namespace synthfarm::bench
