#pragma once
// SIGINT, SIGTERM and SIGHUP, taken as requests to stop cleanly: blocked for the whole process
// and read from a signalfd by the control thread, so that no handler runs on another thread
// (RtAudio's, the null clock, the file writer: they inherit the mask and never see them).
// SIGPIPE is ignored: a `synthfarm ctl` that vanishes mid-reply must give EPIPE, not kill us.

#include <memory>
#include <optional>
#include <string>

namespace synthfarm {

class StopSignals {
 public:
  // Thread: main, before any other thread exists (threads inherit the mask at creation).
  // nullptr with `error` when the signalfd cannot be made.
  static std::unique_ptr<StopSignals> block(std::string& error);
  // Thread: main. Closes the signalfd. The signals stay blocked: the process is about to exit, and
  // one that arrived meanwhile must not kill it before it has cleaned up.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Thread: control. The descriptor to poll for POLLIN.
  int fd() const noexcept { return fd_; }
  // Thread: control. Never blocks. The abbreviation ("INT", "TERM", "HUP") of a signal that
  // arrived, or nullopt when none is pending.
  std::optional<std::string> take();

 private:
  explicit StopSignals(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace synthfarm
