// synthfarm ctl (coordinator/control_client.h), run as users run it: the real executable, as a
// child process, against no instance (nothing at the path, a stale FIFO, a plain file) and
// against a fake instance played by this test, which reads the control FIFO, checks the
// `reply-to` line and answers ok, error, in pieces, or never. Every wait is bounded.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "coordinator/control/control_client.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

constexpr auto kExitTimeout = 10s;  // generous: a loaded 2-core machine; ctl itself is quick

// `synthfarm ctl ARGS...`, with `environment` ("NAME=value") replacing variables of ours: run
// through env(1), since a duplicate variable appended to the environment would lose to ours.
std::unique_ptr<ChildProcess> start_ctl(const std::vector<std::string>& args,
                                        const std::vector<std::string>& environment = {}) {
  std::vector<std::string> argv{"/usr/bin/env"};
  argv.insert(argv.end(), environment.begin(), environment.end());
  argv.push_back(testing::built_program("synthfarm"));
  argv.push_back("ctl");
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(argv);
}

struct CtlRun {
  int exit_code = -1000;
  std::string out;
  std::string err;
};

CtlRun run_ctl(const std::vector<std::string>& args,
               const std::vector<std::string>& environment = {}) {
  auto child = start_ctl(args, environment);
  CtlRun run;
  const auto code = child->wait_exit_code(kExitTimeout);
  EXPECT_TRUE(code) << "synthfarm ctl did not exit within " << kExitTimeout.count() << " s";
  if (code) run.exit_code = *code;
  run.out = child->stdout_text();
  run.err = child->stderr_text();
  return run;
}

std::vector<std::string> files_in(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

// The reply FIFO's path ctl with `pid` must use in `directory`: the pid, then 16 hex digits.
std::regex reply_name(const std::string& directory, int pid) {
  return std::regex(directory + "/synthfarm-ctl-" + std::to_string(pid) + "-[0-9a-f]{16}\\.reply");
}

// ---------------------------------------------------------------------------------------------
// A fake synthfarm: owns a control FIFO as the coordinator does (O_RDWR | O_NONBLOCK) and, on a
// thread, reads one line and answers it through the reply FIFO that line names.

class FakeInstance {
 public:
  enum class Answer { kOk, kError, kOkInPieces, kNever };

  FakeInstance(std::string path, Answer answer, std::string body)
      : path_(std::move(path)), answer_(answer), body_(std::move(body)) {
    EXPECT_EQ(mkfifo(path_.c_str(), 0600), 0) << std::strerror(errno);
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    EXPECT_EQ(pipe2(stop_pipe_, O_CLOEXEC), 0);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeInstance() {
    (void)!write(stop_pipe_[1], "x", 1);
    thread_.join();
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
    close(fd_);
    unlink(path_.c_str());
  }
  FakeInstance(const FakeInstance&) = delete;
  FakeInstance& operator=(const FakeInstance&) = delete;

  // The first line ctl wrote (without its newline), once it has come; nullopt after `timeout`.
  std::optional<std::string> wait_for_line(std::chrono::milliseconds timeout) {
    const std::vector<std::string> lines = wait_for_lines(1, timeout);
    if (lines.empty()) return std::nullopt;
    return lines.front();
  }
  // The first `count` lines, once they have come; fewer after `timeout`.
  std::vector<std::string> wait_for_lines(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return lines_.size() >= count; });
    return lines_;
  }

  // What the fake saw of the first line's reply FIFO when the line came: its mode, or 0 when
  // it was not a FIFO.
  mode_t reply_mode() {
    std::lock_guard lock(mutex_);
    return reply_modes_.empty() ? 0 : reply_modes_.front();
  }
  std::vector<mode_t> reply_modes() {
    std::lock_guard lock(mutex_);
    return reply_modes_;
  }
  std::string reply_path() {
    std::lock_guard lock(mutex_);
    return reply_paths_.empty() ? "" : reply_paths_.front();
  }
  std::vector<std::string> reply_paths() {
    std::lock_guard lock(mutex_);
    return reply_paths_;
  }
  // Whether it got to write its whole answer (to the last line answered).
  bool answered() {
    std::lock_guard lock(mutex_);
    return answered_;
  }

 private:
  // Reads lines until stopped (or 10 s without one) and answers each.
  void serve() {
    std::string received;
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (poll(fds, 2, 10'000) <= 0 || (fds[1].revents & POLLIN)) return;
      char buffer[8192];
      const ssize_t count = read(fd_, buffer, sizeof buffer);
      if (count > 0) received.append(buffer, static_cast<std::size_t>(count));
      for (std::size_t end; (end = received.find('\n')) != std::string::npos;) {
        const std::string line = received.substr(0, end);
        received.erase(0, end + 1);
        answer(line);
      }
    }
  }

  void answer(const std::string& line) {
    // "reply-to PATH COMMAND..."
    std::string reply_path;
    if (line.rfind("reply-to ", 0) == 0) {
      reply_path = line.substr(9, line.find(' ', 9) - 9);
    }
    struct stat status {};
    const bool is_fifo = lstat(reply_path.c_str(), &status) == 0 && S_ISFIFO(status.st_mode);
    {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
      reply_paths_.push_back(reply_path);
      reply_modes_.push_back(is_fifo ? (status.st_mode & 07777) : 0);
    }
    changed_.notify_all();
    if (answer_ == Answer::kNever || !is_fifo) return;
    const int reply = open(reply_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (reply < 0) return;
    const std::string last =
        answer_ == Answer::kError ? "synthfarm-reply: error\n" : "synthfarm-reply: ok\n";
    bool whole = true;
    if (answer_ == Answer::kOkInPieces) {
      // Split inside a line and before the last line: ctl must wait for the rest.
      const std::size_t half = body_.size() / 2;
      whole &= write(reply, body_.data(), half) == static_cast<ssize_t>(half);
      std::this_thread::sleep_for(100ms);
      whole &= write(reply, body_.data() + half, body_.size() - half) ==
               static_cast<ssize_t>(body_.size() - half);
      std::this_thread::sleep_for(100ms);
      whole &= write(reply, last.data(), 10) == 10;  // "synthfarm-"
      std::this_thread::sleep_for(100ms);
      whole &= write(reply, last.data() + 10, last.size() - 10) ==
               static_cast<ssize_t>(last.size() - 10);
    } else {
      const std::string text = body_ + last;
      whole = write(reply, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    }
    close(reply);
    std::lock_guard lock(mutex_);
    answered_ = whole;
  }

  std::string path_;
  Answer answer_;
  std::string body_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::vector<std::string> reply_paths_;
  std::vector<mode_t> reply_modes_;
  bool answered_ = false;
};

// ---------------------------------------------------------------------------------------------
// The command line (pure)

std::variant<CtlOptions, CliExit> parse(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"ctl"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  return parse_ctl_cli(static_cast<int>(argv.size() - 1), argv.data());
}

TEST(ParseCtlCli, FindsTheDefaultInstanceAndWaitsFiveSeconds) {
  const auto result = parse({"status"});
  ASSERT_TRUE(std::holds_alternative<CtlOptions>(result)) << std::get<CliExit>(result).text;
  const CtlOptions& options = std::get<CtlOptions>(result);
  EXPECT_EQ(options.name, "default");
  EXPECT_EQ(options.control_path, default_control_path("default"));
  EXPECT_EQ(options.timeout_seconds, 5.0);
  EXPECT_EQ(options.command, std::vector<std::string>{"status"});
}

TEST(ParseCtlCli, TakesNameTimeoutAndTheCommandWordsAfterThem) {
  const auto result = parse({"--name", "studio", "--timeout=0.5", "set", "all", "mul", "0.1"});
  ASSERT_TRUE(std::holds_alternative<CtlOptions>(result)) << std::get<CliExit>(result).text;
  const CtlOptions& options = std::get<CtlOptions>(result);
  EXPECT_EQ(options.control_path, default_control_path("studio"));
  EXPECT_EQ(options.timeout_seconds, 0.5);
  EXPECT_EQ(options.command, (std::vector<std::string>{"set", "all", "mul", "0.1"}));
}

TEST(ParseCtlCli, PassesWordsThatLookLikeOptionsOnOnceTheCommandBegan) {
  const auto result = parse({"--control", "/tmp/x.control", "gain", "-6"});
  ASSERT_TRUE(std::holds_alternative<CtlOptions>(result)) << std::get<CliExit>(result).text;
  const CtlOptions& options = std::get<CtlOptions>(result);
  EXPECT_EQ(options.control_path, "/tmp/x.control");
  EXPECT_TRUE(options.name.empty());  // messages then speak of the path
  EXPECT_EQ(options.command, (std::vector<std::string>{"gain", "-6"}));
}

TEST(ParseCtlCli, HelpExitsZeroWithUsageCommandsAndExitCodesOnStdout) {
  const auto result = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const CliExit& exit = std::get<CliExit>(result);
  EXPECT_EQ(exit.exit_code, kExitOk);
  EXPECT_TRUE(exit.to_stdout);
  for (const char* words :
       {"usage: synthfarm ctl", "--timeout", "stop <worker|all>", "gain <dB>", "Exit codes"}) {
    EXPECT_NE(exit.text.find(words), std::string::npos) << words << " missing:\n" << exit.text;
  }
}

struct BadCtlLine {
  std::vector<std::string> args;
  std::string names;
};

// For test names and failure messages: the words, not gtest's bytes.
void PrintTo(const BadCtlLine& line, std::ostream* stream) {
  *stream << "ctl";
  for (const std::string& arg : line.args) *stream << " '" << arg << "'";
}

class ParseCtlCliRejects : public ::testing::TestWithParam<BadCtlLine> {};

TEST_P(ParseCtlCliRejects, WithExitCode2AndAMessageOnStderr) {
  const auto result = parse(GetParam().args);
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const CliExit& exit = std::get<CliExit>(result);
  EXPECT_EQ(exit.exit_code, kExitUsage);
  EXPECT_FALSE(exit.to_stdout);
  EXPECT_NE(exit.text.find(GetParam().names), std::string::npos) << exit.text;
}

INSTANTIATE_TEST_SUITE_P(
    BadLines, ParseCtlCliRejects,
    ::testing::Values(BadCtlLine{{}, "no command"}, BadCtlLine{{"--name", "a"}, "no command"},
                      BadCtlLine{{"", " "}, "no command"},
                      BadCtlLine{{"--bogus", "status"}, "unknown option --bogus"},
                      BadCtlLine{{"--name"}, "--name needs a value"},
                      BadCtlLine{{"--name", "a/b", "status"}, "--name"},
                      BadCtlLine{{"--name", "a", "--control", "/tmp/x", "status"}, "not both"},
                      BadCtlLine{{"--timeout", "0", "status"}, "--timeout"},
                      BadCtlLine{{"--timeout", "soon", "status"}, "--timeout"},
                      BadCtlLine{{"status\nquit"}, "line break"}),
    [](const ::testing::TestParamInfo<BadCtlLine>& param_info) {
      std::string name = std::to_string(param_info.index);
      for (const std::string& arg : param_info.param.args) {
        name += "_";
        for (const char c : arg) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

// ---------------------------------------------------------------------------------------------
// No instance

TEST(SynthfarmCtl, ExitsTwoOnABadCommandLineAndSendsNothing) {
  const CtlRun run = run_ctl({});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("no command"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST(SynthfarmCtl, SaysNoInstanceOfThatNameRunsAndHowToStartOne) {
  TempDir runtime;
  const CtlRun run = run_ctl({"--name", "ghost", "status"}, {"XDG_RUNTIME_DIR=" + runtime.path()});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_NE(run.err.find("no synthfarm instance named 'ghost' is running (no control FIFO at " +
                         runtime.file("synthfarm/ghost.control") + ")"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("synthfarm --name ghost"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_TRUE(files_in(runtime.path()).empty()) << "ctl left a file behind";
}

TEST(SynthfarmCtl, CallsAFifoWithoutReaderStaleAndRemovesItsReplyFifo) {
  TempDir directory;
  const std::string control = directory.file("dead.control");
  ASSERT_EQ(mkfifo(control.c_str(), 0600), 0);
  const CtlRun run = run_ctl({"--control", control, "status"});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_NE(run.err.find("has no reader"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("synthfarm --control " + control), std::string::npos) << run.err;
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"dead.control"})
      << "the reply FIFO was left behind";
}

TEST(SynthfarmCtl, RefusesAPathThatIsNotAFifo) {
  TempDir directory;
  const std::string control = directory.file("plain.control");
  { std::ofstream(control) << "not a FIFO\n"; }
  const CtlRun run = run_ctl({"--control", control, "status"});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_NE(run.err.find(control + " is not a FIFO"), std::string::npos) << run.err;
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"plain.control"});
}

// ---------------------------------------------------------------------------------------------
// A fake instance

TEST(SynthfarmCtl, WritesOneReplyToLineAndPrintsAnOkAnswerOnStdout) {
  TempDir directory;
  const std::string control = directory.file("fake.control");
  FakeInstance instance(control, FakeInstance::Answer::kOk, "status: fine\nworker 0: playing\n");
  auto child = start_ctl({"--control", control, "set", "all", "feedback", "0.2"});
  const auto line = instance.wait_for_line(kExitTimeout);
  ASSERT_TRUE(line) << "no line reached the control FIFO; stderr: " << child->stderr_text();
  // synthfarm-ctl-<pid>-<16 random hex digits>.reply, beside the control FIFO.
  const std::string reply = instance.reply_path();
  EXPECT_TRUE(std::regex_match(reply, reply_name(directory.path(), child->pid()))) << reply;
  EXPECT_EQ(*line, "reply-to " + reply + " set all feedback 0.2");
  EXPECT_EQ(instance.reply_mode(), 0600u) << "the reply FIFO is missing or not private";
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, kExitOk) << child->stderr_text();
  EXPECT_TRUE(instance.answered());
  EXPECT_EQ(child->stdout_text(), "status: fine\nworker 0: playing\n");
  EXPECT_EQ(child->stderr_text(), "");
  EXPECT_FALSE(std::filesystem::exists(reply)) << "the reply FIFO was left behind";
}

TEST(SynthfarmCtl, FindsTheInstanceByNameUnderXdgRuntimeDir) {
  TempDir runtime;
  ASSERT_EQ(mkdir(runtime.file("synthfarm").c_str(), 0700), 0);  // as synthfarm makes it
  FakeInstance instance(runtime.file("synthfarm/studio.control"), FakeInstance::Answer::kOk,
                        "control: stop 1\n");
  auto child = start_ctl({"--name", "studio", "stop", "1"}, {"XDG_RUNTIME_DIR=" + runtime.path()});
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, kExitOk) << child->stderr_text();
  EXPECT_EQ(child->stdout_text(), "control: stop 1\n");
  const auto line = instance.wait_for_line(0ms);
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->ends_with(" stop 1")) << *line;
  EXPECT_TRUE(instance.reply_path().starts_with(runtime.path() + "/synthfarm/synthfarm-ctl-"))
      << "the reply FIFO is not beside the control FIFO: " << instance.reply_path();
}

TEST(SynthfarmCtl, WaitsForAnAnswerThatComesInPieces) {
  TempDir directory;
  const std::string control = directory.file("slow.control");
  FakeInstance instance(control, FakeInstance::Answer::kOkInPieces, "first line\nsecond line\n");
  const CtlRun run = run_ctl({"--control", control, "status"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out, "first line\nsecond line\n");
  EXPECT_TRUE(instance.answered());
}

TEST(SynthfarmCtl, PrintsAnErrorAnswerOnStderrAndExitsOne) {
  TempDir directory;
  const std::string control = directory.file("fake.control");
  FakeInstance instance(control, FakeInstance::Answer::kError,
                        "control: 'stop 9': no worker 9 (there are 2); nothing changed\n");
  const CtlRun run = run_ctl({"--control", control, "stop", "9"});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_EQ(run.err, "control: 'stop 9': no worker 9 (there are 2); nothing changed\n");
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"fake.control"});
}

TEST(SynthfarmCtl, GivesUpAfterTheTimeoutWhenTheInstanceNeverAnswers) {
  TempDir directory;
  const std::string control = directory.file("mute.control");
  FakeInstance instance(control, FakeInstance::Answer::kNever, "");
  const CtlRun run = run_ctl({"--control", control, "--timeout", "0.3", "status"});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_NE(run.err.find("did not answer within 0.3 s"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--timeout"), std::string::npos) << run.err;
  EXPECT_TRUE(instance.wait_for_line(0ms)) << "ctl timed out without sending its line";
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"mute.control"})
      << "the reply FIFO was left behind";
}

TEST(SynthfarmCtl, RemovesItsReplyFifoWhenInterruptedWhileWaitingAndDiesOfTheSignal) {
  for (const int signal_number : {SIGINT, SIGTERM}) {
    TempDir directory;
    const std::string control = directory.file("mute.control");
    FakeInstance instance(control, FakeInstance::Answer::kNever, "");
    auto child = start_ctl({"--control", control, "--timeout", "60", "status"});
    ASSERT_TRUE(instance.wait_for_line(kExitTimeout)) << child->stderr_text();
    ASSERT_TRUE(std::filesystem::exists(instance.reply_path()));
    child->send_signal(signal_number);
    const auto code = child->wait_exit_code(kExitTimeout);
    ASSERT_TRUE(code) << "ctl did not end on signal " << signal_number;
    EXPECT_EQ(*code, -signal_number) << child->stderr_text();
    EXPECT_NE(child->stderr_text().find("interrupted"), std::string::npos) << child->stderr_text();
    EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"mute.control"})
        << "the reply FIFO was left behind after signal " << signal_number;
  }
}

// Two ctl at once, each waiting for an answer: each has its own reply FIFO, private, with its
// own random part (not just its own pid), and each removes it.
TEST(SynthfarmCtl, TwoAtOnceGetDistinctRandomlyNamedReplyFifos) {
  TempDir directory;
  const std::string control = directory.file("mute.control");
  FakeInstance instance(control, FakeInstance::Answer::kNever, "");
  auto first = start_ctl({"--control", control, "--timeout", "2", "status"});
  auto second = start_ctl({"--control", control, "--timeout", "2", "status"});
  const std::vector<std::string> lines = instance.wait_for_lines(2, kExitTimeout);
  ASSERT_EQ(lines.size(), 2u) << first->stderr_text() << second->stderr_text();
  const std::vector<std::string> paths = instance.reply_paths();
  std::set<std::string> random_parts;
  for (const std::string& path : paths) {
    const bool named = std::regex_match(path, reply_name(directory.path(), first->pid())) ||
                       std::regex_match(path, reply_name(directory.path(), second->pid()));
    EXPECT_TRUE(named) << path;
    random_parts.insert(path.substr(path.size() - std::string("0123456789abcdef.reply").size()));
  }
  EXPECT_EQ(random_parts.size(), 2u) << paths[0] << " and " << paths[1];
  EXPECT_EQ(instance.reply_modes(), (std::vector<mode_t>{0600, 0600}));
  for (auto* child : {first.get(), second.get()}) {
    const auto code = child->wait_exit_code(kExitTimeout);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, kExitFailure) << "no answer was given";
  }
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"mute.control"})
      << "a reply FIFO was left behind";
}

// Anyone can create /tmp/synthfarm-default.control before the user's instance does (when
// XDG_RUNTIME_DIR is unset) and read what ctl sends there. A live FIFO of another user gets
// nothing, and the message names the path, its owner and the way out.
TEST(SynthfarmCtl, RefusesAControlFifoOfAnotherUserAndSendsItNothing) {
  constexpr uid_t kNobody = 65534;
  TempDir directory;
  const std::string control = directory.file("foreign.control");
  FakeInstance instance(control, FakeInstance::Answer::kOk, "control: gain -6 dB\n");
  if (chown(control.c_str(), kNobody, kNobody) != 0) {
    GTEST_SKIP() << "cannot give " << control << " to uid " << kNobody << " ("
                 << std::strerror(errno) << "): this test needs to run as root";
  }
  const CtlRun run = run_ctl({"--control", control, "gain", "-6"});
  EXPECT_EQ(run.exit_code, kExitFailure);
  EXPECT_NE(run.err.find("the control FIFO " + control + " belongs to user 'nobody' (uid 65534)"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("not to you"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--control PATH"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("XDG_RUNTIME_DIR"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_FALSE(instance.wait_for_line(200ms)) << "a command reached another user's FIFO";
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"foreign.control"})
      << "ctl left a file behind";
}

TEST(SynthfarmCtl, RefusesACommandTooLongForOneAtomicWrite) {
  TempDir directory;
  const std::string control = directory.file("fake.control");
  FakeInstance instance(control, FakeInstance::Answer::kOk, "");
  const CtlRun run = run_ctl({"--control", control, "report", std::string(PIPE_BUF, 'x')});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("PIPE_BUF"), std::string::npos) << run.err;
  EXPECT_FALSE(instance.wait_for_line(200ms)) << "a refused command reached the instance";
  EXPECT_EQ(files_in(directory.path()), std::vector<std::string>{"fake.control"});
}

}  // namespace
}  // namespace synthfarm
