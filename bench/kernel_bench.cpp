// Kernel micro-benchmarks: nanoseconds per oscillator-sample of the scalar reference
// (SineLoopGroup) and of the exact and fast kernels on every SIMD target this CPU runs, at
// 500, 2,000 and 20,000 oscillators and blocks of 64 and 256 frames, on pyo's example workload.
//
// Names read kernel/target/oscillators/block: "reference/osc:500/block:64",
// "fast/avx512/osc:2000/block:256"; select with --benchmark_filter=REGEX.
// Counters, both rates over the thread's CPU time:
//   ns_per_osc_sample    CPU nanoseconds per sample of one oscillator
//   osc_per_core_rt_48k  oscillators one core renders in real time at 48 kHz
// Being rates, they print on the console with "s" and "/s" after them; ignore those units.
// scripts/bench-kernels runs repetitions and prints medians with speed-ups over the reference.
//
// Exit codes: 0 when at least one benchmark ran (or was listed); 1 on an unrecognised argument
// or a filter that matches nothing.

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "shared/kernel_kind.h"
#include "shared/simd_target.h"
#include "shared/sine_loop.h"
#include "worker/oscillator_bank.h"

namespace {

using synthfarm::KernelKind;
using synthfarm::SimdTarget;

// pyo's multiprocessing SineLoop example, as scripts/compare-pyo renders it.
constexpr double kSampleRateHz = 48000.0;
constexpr double kFeedback = 0.1;
constexpr double kMul = 0.005;
constexpr std::uint32_t kChannels = 2;
constexpr double kLowestFrequencyHz = 400.0;
constexpr double kHighestFrequencyHz = 800.0;
constexpr std::uint32_t kFrequencySeed = 1;  // every benchmark renders the same oscillators

constexpr std::array<std::uint32_t, 3> kOscillatorCounts{500, 2000, 20000};
constexpr std::array<std::uint32_t, 2> kBlockFrames{64, 256};
constexpr std::array<KernelKind, 2> kKernels{KernelKind::kExact, KernelKind::kFast};

// Google Benchmark's default of 0.5 s per benchmark makes the ~66 of them take minutes; 0.2 s
// keeps one pass near half a minute on two cores. A later --benchmark_min_time overrides it.
char kDefaultMinTimeFlag[] = "--benchmark_min_time=0.2";

struct Shape {
  std::uint32_t oscillators;
  std::uint32_t block_frames;
};

std::vector<double> frequencies_hz(std::uint32_t oscillators) {
  std::mt19937 generator(kFrequencySeed);
  std::uniform_real_distribution<double> uniform(kLowestFrequencyHz, kHighestFrequencyHz);
  std::vector<double> frequencies(oscillators);
  for (double& frequency : frequencies) frequency = uniform(generator);
  return frequencies;
}

// Google Benchmark multiplies an iteration-invariant rate by the iteration count and divides
// by CPU seconds, so each counter's value is what one iteration contributes.
void set_rate_counters(benchmark::State& state, Shape shape) {
  const double osc_samples_per_block = static_cast<double>(shape.oscillators) * shape.block_frames;
  // Giga-oscillator-samples per second, inverted: nanoseconds per oscillator-sample.
  state.counters["ns_per_osc_sample"] = benchmark::Counter(
      osc_samples_per_block * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  // Oscillator-samples per second over the samples per second one oscillator needs.
  state.counters["osc_per_core_rt_48k"] = benchmark::Counter(
      osc_samples_per_block / kSampleRateHz, benchmark::Counter::kIsIterationInvariantRate);
}

// Renderer: SineLoopGroup or OscillatorBank, which share render(out, frames).
template <typename Renderer>
void render_blocks(benchmark::State& state, Renderer& renderer, Shape shape) {
  std::vector<float> out(std::size_t{shape.block_frames} * kChannels);
  for (auto _ : state) {
    renderer.render(out.data(), shape.block_frames);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();  // every block's samples count as used
  }
  set_rate_counters(state, shape);
}

void bench_reference(benchmark::State& state, Shape shape) {
  const std::vector<double> frequencies = frequencies_hz(shape.oscillators);
  synthfarm::SineLoopGroup group(frequencies, kSampleRateHz, kFeedback, kMul, kChannels,
                                 shape.block_frames);
  render_blocks(state, group, shape);
}

void bench_bank(benchmark::State& state, Shape shape, KernelKind kernel, SimdTarget target) {
  const std::vector<double> frequencies = frequencies_hz(shape.oscillators);
  synthfarm::OscillatorBank bank(frequencies, kSampleRateHz, kFeedback, kMul, kChannels,
                                 shape.block_frames, kernel, target);
  render_blocks(state, bank, shape);
}

std::string shape_name(Shape shape) {
  return "osc:" + std::to_string(shape.oscillators) +
         "/block:" + std::to_string(shape.block_frames);
}

std::vector<Shape> all_shapes() {
  std::vector<Shape> shapes;
  for (std::uint32_t oscillators : kOscillatorCounts) {
    for (std::uint32_t block_frames : kBlockFrames) shapes.push_back({oscillators, block_frames});
  }
  return shapes;
}

// The reference first, then kernel by kernel the targets best first: the order of the report.
void register_benchmarks(const std::vector<SimdTarget>& targets) {
  const std::vector<Shape> shapes = all_shapes();
  for (Shape shape : shapes) {
    benchmark::RegisterBenchmark(("reference/" + shape_name(shape)).c_str(), bench_reference,
                                 shape);
  }
  for (KernelKind kernel : kKernels) {
    for (const SimdTarget& target : targets) {
      const std::string prefix =
          std::string(synthfarm::kernel_kind_name(kernel)) + "/" + std::string(target.name) + "/";
      for (Shape shape : shapes) {
        benchmark::RegisterBenchmark((prefix + shape_name(shape)).c_str(), bench_bank, shape,
                                     kernel, target);
      }
    }
  }
}

// argv with the default minimum time inserted first, so that the user's own flag, parsed
// later, wins. Null-terminated like the original.
std::vector<char*> with_default_min_time(int argc, char** argv) {
  std::vector<char*> arguments{argv[0], kDefaultMinTimeFlag};
  arguments.insert(arguments.end(), argv + 1, argv + argc);
  arguments.push_back(nullptr);
  return arguments;
}

}  // namespace

int main(int argc, char** argv) {
  // The worker renders with denormals flushed, so a benchmark without it would time a path
  // production never takes.
  const bool flushed = synthfarm::enable_flush_to_zero();
  const std::vector<SimdTarget> targets = synthfarm::usable_simd_targets();
  register_benchmarks(targets);

  std::vector<char*> arguments = with_default_min_time(argc, argv);
  int argument_count = static_cast<int>(arguments.size()) - 1;
  benchmark::Initialize(&argument_count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(argument_count, arguments.data())) return 1;

  benchmark::AddCustomContext("synthfarm_simd_targets", synthfarm::simd_target_names(targets));
  benchmark::AddCustomContext("synthfarm_flush_to_zero", flushed ? "on" : "unavailable");
  const std::size_t benchmarks_run = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return benchmarks_run == 0 ? 1 : 0;
}
