#include "coordinator/control/control_client.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "coordinator/control/control_command.h"
#include "coordinator/control/fifo_ownership.h"
#include "coordinator/control/osc_client.h"

namespace synthfarm {
namespace {

constexpr const char* kCtlUsage =
    "usage: synthfarm ctl [--name NAME | --control PATH | --osc HOST:PORT] [--timeout SECONDS] "
    "COMMAND...";

CliExit usage_error(const std::string& why) {
  return CliExit{kExitUsage, "synthfarm ctl: " + why + " (see synthfarm ctl --help)", false};
}

std::string ctl_help() {
  return std::string(kCtlUsage) +
         "\n\n"
         "Sends COMMAND to a running synthfarm through its control FIFO (or, with --osc, as an\n"
         "OSC message over UDP), waits for the answer and prints it: on stdout when the command\n"
         "succeeded, on stderr when it failed.\n\n"
         "Options (before the command):\n"
         "  --name NAME         the instance, as started with synthfarm --name NAME\n"
         "                      (default 'default')\n"
         "  --control PATH      its control FIFO, for an instance started with --control PATH\n"
         "                      (default $XDG_RUNTIME_DIR/synthfarm/NAME.control, or\n"
         "                      /tmp/synthfarm-UID/NAME.control)\n"
         "  --osc HOST:PORT     send the command as an OSC message over UDP instead, to an\n"
         "                      instance started with --osc-port PORT, e.g. 127.0.0.1:57130\n"
         "                      or [::1]:57130 (default: the control FIFO; see docs/OSC.md)\n"
         "  --timeout SECONDS   how long to wait for the answer (default 5)\n"
         "  -h, --help          print this help and exit\n\n" +
         control_command_summary() +
         "\nExamples:\n"
         "  synthfarm ctl status\n"
         "  synthfarm ctl --name studio stop 1\n"
         "  synthfarm ctl gain -6\n"
         "  synthfarm ctl --osc 127.0.0.1:57130 status\n\n"
         "Exit codes: 0 the instance answered ok; 1 it answered error, or could not be reached,\n"
         "or did not answer in time (message on stderr); 2 a bad command line (nothing sent).\n";
}

// "instance 'studio'" or "the instance at /path": whom the messages talk about.
std::string instance_label(const CtlOptions& options) {
  return options.name.empty() ? "the instance at " + options.control_path
                              : "instance '" + options.name + "'";
}

std::string how_to_start(const CtlOptions& options) {
  if (options.name.empty()) return "synthfarm --control " + options.control_path;
  return options.name == "default" ? "synthfarm" : "synthfarm --name " + options.name;
}

std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return text;
}

CtlResult failure(const std::string& message) {
  return CtlResult{kExitFailure, "", "synthfarm ctl: " + message + "\n", 0};
}

// The reply FIFO's name in `directory`: ctl's pid (for whoever lists the directory) and
// kReplyNameRandomDigits hex digits drawn from getrandom(), so that no other user can guess
// it and create it first. Every name has the same length, whatever the digits.
constexpr std::size_t kReplyNameRandomDigits = 16;
std::string reply_fifo_path(const std::filesystem::path& directory, const std::string& random) {
  return (directory / ("synthfarm-ctl-" + std::to_string(getpid()) + "-" + random + ".reply"))
      .string();
}

// kReplyNameRandomDigits hex digits from the kernel's random source, or nullopt with `error`.
std::optional<std::string> random_hex_digits(std::string& error) {
  std::array<unsigned char, kReplyNameRandomDigits / 2> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t count = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) {
      error = std::string("cannot draw a random name for the reply FIFO (getrandom): ") +
              std::strerror(errno);
      return std::nullopt;
    }
    got += static_cast<std::size_t>(count);
  }
  std::string digits;
  for (const unsigned char byte : bytes) {
    constexpr const char* kHex = "0123456789abcdef";
    digits += kHex[byte >> 4];
    digits += kHex[byte & 0xf];
  }
  return digits;
}

// "user 'nobody' (uid 65534)", or "uid 65534" when the user database has no name for it.
std::string describe_user(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  const std::string number = "uid " + std::to_string(uid);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return number;
  }
  return "user '" + std::string(found->pw_name) + "' (" + number + ")";
}

// A control FIFO that another user owns may be that user's trap (anyone can create
// /tmp/synthfarm-NAME.control first when XDG_RUNTIME_DIR is unset): nothing is sent to it.
std::string foreign_owner_error(const std::string& control, uid_t owner) {
  return "the control FIFO " + control + " belongs to " + describe_user(owner) +
         ", not to you (uid " + std::to_string(geteuid()) +
         "): ctl sends it nothing, since its owner would read your commands. If it is a " +
         "leftover or a trap, have its owner or root remove it; to keep clear of shared " +
         "directories, set XDG_RUNTIME_DIR, or start synthfarm with --control PATH in a " +
         "directory only you can write and give ctl the same --control PATH";
}

// The reply FIFO and what guards it: removed, with SIGINT and SIGTERM unblocked again, however
// the wait ends.
class ReplyFifo {
 public:
  ReplyFifo() = default;
  ReplyFifo(const ReplyFifo&) = delete;
  ReplyFifo& operator=(const ReplyFifo&) = delete;

  ~ReplyFifo() {
    if (fd_ >= 0) close(fd_);
    if (created_) unlink(path_.c_str());
    if (signal_fd_ >= 0) close(signal_fd_);
    // Any SIGINT/SIGTERM that arrived was read from the signalfd; none is left pending.
    if (signals_blocked_) sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }

  // Blocks SIGINT and SIGTERM (they arrive on signal_fd() instead, so that the FIFO is removed
  // first), then creates the FIFO under a new random name in `directory` and opens it.
  // mkfifo() refuses a name that exists, so the FIFO is always our own new one; a name that
  // is taken (by chance or by someone's guess) is drawn again, a few times.
  bool create(const std::filesystem::path& directory, std::string& error) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &signals, &old_mask_) != 0) {
      error = std::string("cannot block SIGINT and SIGTERM: ") + std::strerror(errno);
      return false;
    }
    signals_blocked_ = true;
    signal_fd_ = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) {
      error = std::string("cannot create a signalfd: ") + std::strerror(errno);
      return false;
    }
    constexpr int kNameAttempts = 5;
    for (int attempt = 0; attempt < kNameAttempts && !created_; ++attempt) {
      const std::optional<std::string> random = random_hex_digits(error);
      if (!random) return false;
      path_ = reply_fifo_path(directory, *random);
      if (mkfifo(path_.c_str(), 0600) == 0) {
        created_ = true;
      } else if (errno != EEXIST) {
        error = "cannot create the reply FIFO " + path_ + ": " + std::strerror(errno) +
                " (ctl needs to write in the control FIFO's directory)";
        return false;
      }
    }
    if (!created_) {
      error = "cannot create a reply FIFO in " + directory.string() + ": " +
              std::to_string(kNameAttempts) +
              " random names in a row were taken; is someone creating files there?";
      return false;
    }
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd_ < 0) {
      error = "cannot open the reply FIFO " + path_ + ": " + std::strerror(errno);
      return false;
    }
    // In a directory others may write to, the name could have been swapped since mkfifo().
    uid_t owner = 0;
    if (opened_fifo_ownership(fd_, owner) != FifoOwnership::kOwnFifo) {
      error = "the reply FIFO " + path_ + " was replaced by something else after ctl made it";
      created_ = false;  // not ours to remove
      return false;
    }
    return true;
  }

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  int signal_fd() const { return signal_fd_; }

 private:
  std::string path_;
  int fd_ = -1;
  int signal_fd_ = -1;
  bool created_ = false;
  bool signals_blocked_ = false;
  sigset_t old_mask_{};
};

// The one line ctl writes: where to reply, then the command.
std::string control_line(const CtlOptions& options, const std::string& reply_path) {
  std::string line = std::string(kReplyToPrefix) + reply_path;
  if (options.command.size() >= 2 && options.command[0] == "report") {
    // The instance writes `report FILE` from its own working directory: a relative path means
    // this shell's, so it travels absolute (the rest of the line is the path, blanks and all).
    std::string path = options.command[1];
    for (std::size_t i = 2; i < options.command.size(); ++i) path += " " + options.command[i];
    line += " report " + std::filesystem::absolute(path).string();
  } else {
    for (const std::string& word : options.command) line += " " + word;
  }
  return line + "\n";
}

// Appends what the reply FIFO holds to `received`, without waiting for more.
void read_reply(int fd, std::string& received) {
  char buffer[4096];
  while (true) {
    const ssize_t count = read(fd, buffer, sizeof buffer);
    if (count <= 0) return;  // EAGAIN: all there is for now (we hold a writer: never EOF)
    received.append(buffer, static_cast<std::size_t>(count));
  }
}

// A complete reply, for main to print.
CtlResult result_of(const CtlReply& reply) {
  CtlResult result;
  result.exit_code = reply.ok ? kExitOk : kExitFailure;
  (reply.ok ? result.out : result.err) = reply.body;
  return result;
}

}  // namespace

std::variant<CtlOptions, CliExit> parse_ctl_cli(int argc, const char* const argv[]) {
  CtlOptions options;
  bool name_given = false;
  bool control_given = false;
  int next = 1;
  // --option VALUE or --option=VALUE; nullopt (with `exit` set) when the value is missing.
  const auto value_of = [&](const std::string& arg, const std::string& option,
                            std::optional<CliExit>& exit) -> std::optional<std::string> {
    if (arg.size() > option.size()) return arg.substr(option.size() + 1);
    if (next + 1 >= argc) {
      exit = usage_error(option + " needs a value");
      return std::nullopt;
    }
    return std::string(argv[++next]);
  };
  for (; next < argc; ++next) {
    const std::string arg = argv[next];
    std::optional<CliExit> exit;
    const auto is = [&](const std::string& option) {
      return arg == option || arg.rfind(option + "=", 0) == 0;
    };
    if (arg == "--") {
      ++next;
      break;
    }
    if (arg == "--help" || arg == "-h") return CliExit{kExitOk, ctl_help(), true};
    if (arg.empty() || arg[0] != '-') break;  // the command begins
    if (is("--name")) {
      const auto value = value_of(arg, "--name", exit);
      if (!value) return *exit;
      if (!is_valid_instance_name(*value)) {
        return usage_error("--name: '" + *value + "' must be 1 to 64 letters, digits, '-' or '_'");
      }
      options.name = *value;
      name_given = true;
    } else if (is("--control")) {
      const auto value = value_of(arg, "--control", exit);
      if (!value) return *exit;
      if (value->empty()) return usage_error("--control needs a path");
      options.control_path = *value;
      control_given = true;
    } else if (is("--osc")) {
      const auto value = value_of(arg, "--osc", exit);
      if (!value) return *exit;
      if (!parse_osc_endpoint(*value)) {
        return usage_error("--osc: '" + *value +
                           "' is not HOST:PORT (e.g. 127.0.0.1:57130, [::1]:57130)");
      }
      options.osc_endpoint = *value;
    } else if (is("--timeout")) {
      const auto value = value_of(arg, "--timeout", exit);
      if (!value) return *exit;
      const std::optional<double> seconds = parse_finite_number(*value);
      if (!seconds || *seconds <= 0 || *seconds > 3600) {
        return usage_error("--timeout: '" + *value + "' is not a number of seconds above 0, " +
                           "up to 3600");
      }
      options.timeout_seconds = *seconds;
    } else {
      return usage_error("unknown option " + arg);
    }
  }
  if (name_given && control_given) {
    return usage_error("give --name or --control, not both (the name only finds the FIFO)");
  }
  if (!options.osc_endpoint.empty() && (name_given || control_given)) {
    return usage_error("give --osc, or --name or --control, not both (they find the FIFO)");
  }
  for (; next < argc; ++next) {
    const std::string word = argv[next];
    if (word.find_first_of("\n\r") != std::string::npos) {
      return usage_error("a command word cannot hold a line break: one command per call");
    }
    options.command.push_back(word);
  }
  const bool blank = std::all_of(
      options.command.begin(), options.command.end(),
      [](const std::string& word) { return word.find_first_not_of(" \t") == std::string::npos; });
  if (blank) return usage_error("no command given; try synthfarm ctl status");
  if (control_given) {
    options.name.clear();
  } else {
    options.control_path = default_control_path(options.name);
  }
  return options;
}

CtlResult send_control_command(const CtlOptions& options) {
  if (!options.osc_endpoint.empty()) {
    return send_osc_command(*parse_osc_endpoint(options.osc_endpoint), options.timeout_seconds,
                            options.command);
  }
  signal(SIGPIPE, SIG_IGN);
  const std::string& control = options.control_path;
  struct stat status {};
  if (stat(control.c_str(), &status) != 0) {
    if (errno == ENOENT) {
      return failure(options.name.empty()
                         ? "no synthfarm instance is running with the control FIFO " + control +
                               " (no such file); start one with `" + how_to_start(options) + "`"
                         : "no synthfarm instance named '" + options.name +
                               "' is running (no control FIFO at " + control +
                               "); start one with `" + how_to_start(options) + "`");
    }
    return failure("cannot look at the control FIFO " + control + ": " + std::strerror(errno));
  }
  switch (fifo_ownership(status)) {
    case FifoOwnership::kOwnFifo:
      break;
    case FifoOwnership::kNotAFifo:
      return failure(control + " is not a FIFO, so no synthfarm listens there; check " +
                     "--control (or --name), and remove the file if nothing needs it");
    case FifoOwnership::kOtherUsersFifo:
      return failure(foreign_owner_error(control, status.st_uid));
  }

  // Absolute: the coordinator may run in another directory, and insists on it.
  const std::filesystem::path directory =
      std::filesystem::absolute(std::filesystem::path(control)).lexically_normal().parent_path();
  // Checked before anything is created, with a stand-in for the random digits: every reply
  // path has the same length, and only the directory can hold a blank.
  const std::string sample_reply_path =
      reply_fifo_path(directory, std::string(kReplyNameRandomDigits, '0'));
  if (sample_reply_path.find_first_of(" \t\n") != std::string::npos) {
    return CtlResult{kExitUsage, "",
                     "synthfarm ctl: the reply FIFO's directory " + directory.string() +
                         " holds a blank, which the control line cannot carry; move the " +
                         "control FIFO (synthfarm --control PATH) to a directory without one\n",
                     0};
  }
  const std::size_t line_bytes = control_line(options, sample_reply_path).size();
  if (line_bytes > PIPE_BUF) {
    return CtlResult{kExitUsage, "",
                     "synthfarm ctl: the command line is " + std::to_string(line_bytes) +
                         " bytes with its reply path; one write of at most " +
                         std::to_string(PIPE_BUF) +
                         " (PIPE_BUF) is what keeps it whole: shorten the command\n",
                     0};
  }

  ReplyFifo reply;
  std::string error;
  if (!reply.create(directory, error)) return failure(error);
  const std::string line = control_line(options, reply.path());

  const int control_fd = open(control.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (control_fd < 0) {
    if (errno == ENXIO) {
      return failure("the control FIFO " + control + " has no reader: " + instance_label(options) +
                     " is gone and left it behind (it crashed or was killed); `" +
                     how_to_start(options) + "` removes it and starts a new one");
    }
    if (errno == ENOENT) {
      return failure(instance_label(options) + " ended just now (its control FIFO " + control +
                     " is gone); start one with `" + how_to_start(options) + "`");
    }
    return failure("cannot open the control FIFO " + control + ": " + std::strerror(errno));
  }
  // What was opened must be the FIFO checked above, or one as much ours: the path may have
  // been replaced in between.
  uid_t opened_owner = 0;
  const FifoOwnership opened = opened_fifo_ownership(control_fd, opened_owner);
  if (opened != FifoOwnership::kOwnFifo) {
    close(control_fd);
    return failure(opened == FifoOwnership::kNotAFifo
                       ? control + " changed while ctl opened it and is no longer a FIFO; try again"
                       : foreign_owner_error(control, opened_owner));
  }
  const ssize_t written = write(control_fd, line.data(), line.size());
  const int write_errno = errno;
  close(control_fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return failure(write_errno == EAGAIN
                       ? "the control FIFO " + control + " is full: " + instance_label(options) +
                             " is not reading its commands (is it stopped or hung?)"
                       : "cannot write to the control FIFO " + control + ": " +
                             std::strerror(write_errno) + " (" + instance_label(options) +
                             " ended just now?)");
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options.timeout_seconds));
  std::string received;
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd fds[2] = {{reply.fd(), POLLIN, 0}, {reply.signal_fd(), POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return failure(std::string("cannot wait for the answer: ") + std::strerror(errno));
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo signal_info{};
      if (read(reply.signal_fd(), &signal_info, sizeof signal_info) ==
          static_cast<ssize_t>(sizeof signal_info)) {
        const int number = static_cast<int>(signal_info.ssi_signo);
        CtlResult result =
            failure(std::string("interrupted (SIG") + sigabbrev_np(number) + ") before " +
                    instance_label(options) + " answered; the command may have been applied");
        result.interrupted_by = number;
        return result;
      }
    }
    if (fds[0].revents & POLLIN) {
      read_reply(reply.fd(), received);
      const CtlReply answer = parse_ctl_reply(received);
      if (answer.done) return result_of(answer);
    }
  }
  std::string message = instance_label(options) + " did not answer within " +
                        format_seconds(options.timeout_seconds) +
                        " s; it holds its control FIFO open but is busy, hung or too old to " +
                        "answer synthfarm ctl (wait longer with --timeout SECONDS)";
  if (!received.empty()) message += "; a partial answer came:\n" + received;
  return failure(message);
}

}  // namespace synthfarm
