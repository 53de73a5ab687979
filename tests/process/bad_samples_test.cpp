// Bad samples from a worker (NaN, Inf, huge values) never reach the output, and the master
// stage counts them. The worker writes them through its test-only fault switch,
// SYNTHFARM_TEST_FAULT (worker/fault_injection.h), which the tests aim at worker 1 of 2 so
// that worker 0's share shows the damage stays where it was made.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <variant>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/synthfarm_run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wav_file.h"
#include "worker/fault_injection.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

// --- The switch itself: where it writes, and which worker it applies to.

std::vector<float> injected(FaultInjector& fault, std::size_t total_samples,
                            const std::vector<std::size_t>& block_samples) {
  std::vector<float> out(total_samples, 0.25f);
  std::size_t done = 0;
  for (std::size_t b = 0; done < total_samples; ++b) {
    const std::size_t count =
        std::min(block_samples[b % block_samples.size()], total_samples - done);
    fault.apply(out.data() + done, count);
    done += count;
  }
  return out;
}

TEST(FaultInjector, OverwritesEvery97thSampleAcrossBlockBoundaries) {
  FaultInjector fault(FaultKind::kNan);
  // Odd block sizes, some shorter than the stride, so faults fall at every offset in a block.
  const std::vector<float> out = injected(fault, 10'000, {512, 3, 97, 200, 1});
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i % 97 == 96) {
      EXPECT_TRUE(std::isnan(out[i])) << "sample " << i;
    } else {
      ASSERT_EQ(out[i], 0.25f) << "sample " << i;
    }
  }
}

TEST(FaultInjector, MixedCyclesThroughEveryKindOfBadValue) {
  FaultInjector fault(FaultKind::kMixed);
  const std::vector<float> out = injected(fault, 97 * 5, {256});
  EXPECT_TRUE(std::isnan(out[96]));
  EXPECT_EQ(out[193], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[290], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[387], FaultInjector::kHugeValue);
  EXPECT_EQ(out[484], -FaultInjector::kHugeValue);
}

TEST(FaultInjector, IsOffWhenUnsetOrAimedAtAnotherWorker) {
  EXPECT_FALSE(std::get<FaultInjector>(parse_test_fault(nullptr, 0)).enabled());
  EXPECT_FALSE(std::get<FaultInjector>(parse_test_fault("", 0)).enabled());
  EXPECT_FALSE(std::get<FaultInjector>(parse_test_fault("nan:1", 0)).enabled());
  EXPECT_EQ(std::get<FaultInjector>(parse_test_fault("nan:1", 1)).kind(), FaultKind::kNan);
  EXPECT_EQ(std::get<FaultInjector>(parse_test_fault("inf", 3)).kind(), FaultKind::kInf);
  EXPECT_EQ(std::get<FaultInjector>(parse_test_fault("huge", 0)).kind(), FaultKind::kHuge);
  EXPECT_EQ(std::get<FaultInjector>(parse_test_fault("mixed:0", 0)).kind(), FaultKind::kMixed);
  FaultInjector off;
  std::vector<float> out(1000, 0.25f);
  off.apply(out.data(), out.size());
  EXPECT_EQ(out, std::vector<float>(1000, 0.25f));
}

TEST(FaultInjector, RefusesAValueItDoesNotUnderstand) {
  for (const char* bad : {"NaN", "bogus", "nan:", "nan:x", "nan:-1", "nan:1:2", ":1"}) {
    const auto parsed = parse_test_fault(bad, 0);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
    EXPECT_NE(std::get<std::string>(parsed).find("SYNTHFARM_TEST_FAULT"), std::string::npos);
  }
}

// --- Whole runs.

struct MasterCounts {
  std::uint64_t nonfinite_samples = 0;
  std::uint64_t limited_samples = 0;
};

// One synthfarm run with its own instance name and FIFO, the fault switch in its environment
// (inherited by the workers it spawns), and the checks that it left nothing behind.
class FaultRun {
 public:
  explicit FaultRun(const std::string& test_name) : run_(test_name) {
    // A switch left in the test's own environment would leak into the clean reference runs.
    ::unsetenv(kTestFaultEnvironmentVariable);
  }

  void start(const std::vector<std::string>& arguments, const std::string& fault) {
    std::vector<std::string> environment;
    if (!fault.empty()) {
      environment.push_back(std::string(kTestFaultEnvironmentVariable) + "=" + fault);
    }
    run_.start(arguments, environment);
  }

  ChildProcess& process() { return run_.process(); }
  std::string file(const std::string& name) const { return run_.file(name); }
  void send_command(const std::string& line) { run_.send_command(line); }
  std::vector<pid_t> wait_for_workers(std::size_t count) { return run_.wait_for_workers(count); }

  // Runs to the end, expects exit code 0 and nothing left of this instance, and returns the
  // counters from the `final:` status line.
  MasterCounts expect_clean_exit(const std::vector<pid_t>& workers) {
    run_.expect_exit(0, workers);
    return counts_from(run_.process().stdout_text(), "final");
  }

  // The master stage's counters from the first `label:` status line in `text`.
  static MasterCounts counts_from(const std::string& text, const std::string& label) {
    std::smatch match;
    const std::regex line(label + ": .* nonfinite_samples=([0-9]+) limited_samples=([0-9]+)");
    EXPECT_TRUE(std::regex_search(text, match, line)) << "no '" << label << ":' line in:\n" << text;
    if (match.empty()) return {};
    return {std::stoull(match[1]), std::stoull(match[2])};
  }

 private:
  testing::SynthfarmRun run_;
};

const std::vector<std::string> kTwoWorkers{"--workers", "2", "--sines", "10"};

// The start-up line each worker prints when its switch is on: only the aimed-at worker has it.
void expect_only_worker_1_injects(ChildProcess& process) {
  const std::string errors = process.stderr_text();
  EXPECT_TRUE(std::regex_search(errors, std::regex("synthfarm-worker 1 .*test fault"))) << errors;
  EXPECT_FALSE(std::regex_search(errors, std::regex("synthfarm-worker 0 .*test fault"))) << errors;
}

struct FaultCase {
  std::string kind;
  bool nonfinite;  // writes NaN or Inf
  bool huge;       // writes ±1e30
};

void PrintTo(const FaultCase& fault, std::ostream* out) {
  *out << fault.kind;
}

const auto kEveryFault =
    ::testing::Values(FaultCase{"nan", true, false}, FaultCase{"inf", true, false},
                      FaultCase{"huge", false, true}, FaultCase{"mixed", true, true});
const auto kFaultName = [](const auto& param_info) { return param_info.param.kind; };

// On a device (here the null clock), NaN/Inf become 0 and count as non-finite; huge values are
// limited to ±1 and count as limited. Which counter moves depends on what the worker writes.
class FaultOnTheNullClock : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultOnTheNullClock, IsCountedInTheFinalStatusLineAndTheRunExitsZero) {
  const FaultCase fault = GetParam();
  FaultRun run("badsamples-null-" + fault.kind);
  std::vector<std::string> arguments{"--audio", "null", "--duration", "1"};
  arguments.insert(arguments.end(), kTwoWorkers.begin(), kTwoWorkers.end());
  run.start(arguments, fault.kind + ":1");
  const MasterCounts counts = run.expect_clean_exit(run.wait_for_workers(2));
  std::printf("[ measured ] %s:1 on the null clock: nonfinite_samples=%llu limited_samples=%llu\n",
              fault.kind.c_str(), static_cast<unsigned long long>(counts.nonfinite_samples),
              static_cast<unsigned long long>(counts.limited_samples));
  if (fault.nonfinite) {
    EXPECT_GT(counts.nonfinite_samples, 0u);
  } else {
    EXPECT_EQ(counts.nonfinite_samples, 0u);
  }
  if (fault.huge) {
    EXPECT_GT(counts.limited_samples, 0u);
  } else {
    // 20 oscillators at mul 0.005 never reach ±1: nothing else is limited.
    EXPECT_EQ(counts.limited_samples, 0u);
  }
  expect_only_worker_1_injects(run.process());
}

INSTANTIATE_TEST_SUITE_P(EveryKind, FaultOnTheNullClock, kEveryFault, kFaultName);

// The `status` command shows the counter while the run goes on, not only at the end.
TEST(FaultWhilePlaying, IsCountedInTheStatusCommandsOutput) {
  FaultRun run("badsamples-status");
  std::vector<std::string> arguments{"--audio", "null"};
  arguments.insert(arguments.end(), kTwoWorkers.begin(), kTwoWorkers.end());
  run.start(arguments, "nan:1");
  const auto workers = run.wait_for_workers(2);
  // A few status requests, because the first may come before a bad sample was played.
  std::optional<std::vector<std::string>> line;
  for (int attempt = 0; attempt < 10 && !line; ++attempt) {
    run.send_command("status");
    line = run.process().wait_for_stdout(
        std::regex("status: .* nonfinite_samples=([1-9][0-9]*) limited_samples=0"), 500ms);
  }
  EXPECT_TRUE(line) << run.process().stdout_text();
  if (line)
    std::printf("[ measured ] nan:1 status line: nonfinite_samples=%s\n", (*line)[1].c_str());
  run.send_command("quit");
  const MasterCounts final_counts = run.expect_clean_exit(workers);
  if (line) {
    EXPECT_GE(final_counts.nonfinite_samples, std::stoull((*line)[1]));
  }
}

// A value the worker does not understand stops the run at start-up, with a message that names
// the variable, rather than running without the fault a test asked for.
TEST(FaultSwitch, WithAValueItDoesNotUnderstandTheRunFailsAtStartUp) {
  FaultRun run("badsamples-badvalue");
  std::vector<std::string> arguments{"--audio", "null", "--duration", "1"};
  arguments.insert(arguments.end(), kTwoWorkers.begin(), kTwoWorkers.end());
  run.start(arguments, "bogus");
  const auto exit_code = run.process().wait_exit_code(30s);
  ASSERT_TRUE(exit_code);
  EXPECT_EQ(*exit_code, 1);
  EXPECT_TRUE(std::regex_search(run.process().stderr_text(),
                                std::regex("SYNTHFARM_TEST_FAULT='bogus' is not understood")))
      << run.process().stderr_text();
}

// --- Offline renders: the file, sample by sample.

// The file's samples, or none and a test failure.
std::vector<float> read_wav(const std::string& path) {
  std::string error;
  const auto wav = testing::read_wav(path, error);
  EXPECT_TRUE(wav) << error;
  return wav ? wav->samples : std::vector<float>{};
}

std::vector<float> render_offline(FaultRun& run, const std::string& fault, MasterCounts& counts) {
  const std::string output = run.file(fault.empty() ? "clean.wav" : "fault.wav");
  std::vector<std::string> arguments{"--seed", "7", "--output", output, "--duration", "1"};
  arguments.insert(arguments.end(), kTwoWorkers.begin(), kTwoWorkers.end());
  run.start(arguments, fault);
  counts = run.expect_clean_exit(run.wait_for_workers(2));
  return read_wav(output);
}

// What worker 1 writes at its k-th bad sample (mixed cycles NaN, +Inf, -Inf, +1e30, -1e30).
enum class Bad { kNonFinite, kHugePositive, kHugeNegative };
Bad bad_value(const std::string& kind, std::size_t k) {
  if (kind == "huge") return Bad::kHugePositive;
  if (kind != "mixed") return Bad::kNonFinite;
  switch (k % 5) {
    case 3:
      return Bad::kHugePositive;
    case 4:
      return Bad::kHugeNegative;
    default:
      return Bad::kNonFinite;
  }
}

class FaultInAFile : public ::testing::TestWithParam<FaultCase> {};

// An offline render waits for every frame, so worker 1's k-th bad sample lands exactly on
// sample 97k + 96 of the file. There a NaN/Inf is written as 0 (counted); a huge value is
// written as it is, because WAV files are written unclipped, as pyo writes them
// (docs/ARCHITECTURE.md, Master stage; the file path is not limited and limited_samples stays 0).
// Every other sample equals the clean render bit for bit: worker 0 and the rest of worker 1 are
// untouched.
TEST_P(FaultInAFile, HoldsNoNanOrInfAndEqualsTheCleanRenderElsewhere) {
  const FaultCase fault = GetParam();
  FaultRun clean_run("badsamples-clean-" + fault.kind);
  MasterCounts clean_counts;
  const std::vector<float> clean = render_offline(clean_run, "", clean_counts);
  EXPECT_EQ(clean_counts.nonfinite_samples, 0u);
  EXPECT_EQ(clean_counts.limited_samples, 0u);

  FaultRun fault_run("badsamples-file-" + fault.kind);
  MasterCounts counts;
  const std::vector<float> rendered = render_offline(fault_run, fault.kind + ":1", counts);
  expect_only_worker_1_injects(fault_run.process());
  ASSERT_EQ(rendered.size(), 48000u * 2) << "the render is not 1 s of stereo";
  ASSERT_EQ(rendered.size(), clean.size());

  std::uint64_t expected_nonfinite = 0;
  std::uint64_t unclipped_huge = 0;
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    ASSERT_TRUE(std::isfinite(rendered[i])) << "sample " << i << " is " << rendered[i];
    if (i % FaultInjector::kStrideSamples != FaultInjector::kStrideSamples - 1) {
      ASSERT_EQ(rendered[i], clean[i]) << "sample " << i << " differs from the clean render";
      continue;
    }
    switch (bad_value(fault.kind, i / FaultInjector::kStrideSamples)) {
      case Bad::kNonFinite:
        ++expected_nonfinite;
        EXPECT_EQ(rendered[i], 0.0f) << "sample " << i;
        break;
      case Bad::kHugePositive:
        // 1e30 times pyo's fade-in gain (at least 1/240 on the first bad sample).
        ++unclipped_huge;
        EXPECT_GT(rendered[i], 1e27f) << "sample " << i;
        break;
      case Bad::kHugeNegative:
        ++unclipped_huge;
        EXPECT_LT(rendered[i], -1e27f) << "sample " << i;
        break;
    }
  }
  std::printf(
      "[ measured ] %s:1 in a file: nonfinite_samples=%llu limited_samples=%llu, %llu "
      "huge samples written unclipped\n",
      fault.kind.c_str(), static_cast<unsigned long long>(counts.nonfinite_samples),
      static_cast<unsigned long long>(counts.limited_samples),
      static_cast<unsigned long long>(unclipped_huge));
  // 96,000 samples hold 989 bad ones (97 x 989 = 95,933); mixed: 594 NaN/Inf and 395 huge.
  EXPECT_EQ(expected_nonfinite + unclipped_huge, 989u);
  EXPECT_EQ(counts.nonfinite_samples, expected_nonfinite);
  EXPECT_EQ(counts.limited_samples, 0u) << "a file is written unclipped";
  EXPECT_EQ(fault.nonfinite, expected_nonfinite > 0);
  EXPECT_EQ(fault.huge, unclipped_huge > 0);
}

INSTANTIATE_TEST_SUITE_P(EveryKind, FaultInAFile, kEveryFault, kFaultName);

}  // namespace
}  // namespace synthfarm
