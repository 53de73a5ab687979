#include "tests/support/counting_stream.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "shared/shared_futex.h"

namespace synthfarm::testing {

float counting_value(std::uint64_t frame, std::uint32_t channel, std::uint32_t channels) {
  return static_cast<float>((frame * channels + channel) % (std::uint64_t{1} << 24));
}

void fill_counting(std::vector<float>& buffer, std::uint64_t first_frame, std::uint32_t frames,
                   std::uint32_t channels) {
  for (std::uint32_t f = 0; f < frames; ++f) {
    for (std::uint32_t c = 0; c < channels; ++c) {
      buffer[std::size_t{f} * channels + c] = counting_value(first_frame + f, c, channels);
    }
  }
}

std::uint32_t uneven_chunk(std::uint64_t step, std::uint32_t limit) {
  return static_cast<std::uint32_t>((step * 7919u + 13u) % limit) + 1u;
}

std::ostream& operator<<(std::ostream& out, StreamOutcome outcome) {
  switch (outcome) {
    case StreamOutcome::kDone:
      return out << "done";
    case StreamOutcome::kStalled:
      return out << "stalled";
    case StreamOutcome::kOtherSideQuit:
      return out << "the other side quit";
  }
  return out << static_cast<int>(outcome);
}

StreamOutcome produce_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                      const std::atomic<std::uint32_t>& abandon,
                                      std::uint64_t total_frames, std::vector<float>& buffer) {
  const std::uint32_t channels = ring.channels();
  const std::uint32_t max_chunk = ring.capacity_frames() / 2 + 77;  // uneven, <= capacity
  std::uint64_t written = 0;
  auto last_progress = std::chrono::steady_clock::now();
  for (std::uint64_t step = 0; written < total_frames; ++step) {
    const auto chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(uneven_chunk(step, max_chunk), total_frames - written));
    while (ring.free_frames() < chunk) {
      if (abandon.load(std::memory_order_acquire)) return StreamOutcome::kOtherSideQuit;
      sleep_until_ready(
          slot.space_ready, [&] { return ring.free_frames() >= chunk || abandon.load(); },
          kSleepTimeout);
      // Either the consumer stopped, or its notify_sleeper() did not wake us (lost wake-up).
      if (std::chrono::steady_clock::now() - last_progress >= kStallLimit) {
        return StreamOutcome::kStalled;
      }
    }
    fill_counting(buffer, written, chunk, channels);
    ring.write(buffer.data(), chunk);
    written += chunk;
    notify_sleeper(slot.data_ready);
    last_progress = std::chrono::steady_clock::now();
  }
  return StreamOutcome::kDone;
}

ConsumerReport consume_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                       std::atomic<std::uint32_t>& abandon,
                                       std::uint64_t total_frames) {
  const std::uint32_t channels = ring.channels();
  const std::uint32_t max_chunk = ring.capacity_frames() / 3 + 101;
  ConsumerReport report;
  auto last_progress = std::chrono::steady_clock::now();
  for (std::uint64_t step = 0; report.frames_read < total_frames; ++step) {
    const std::uint64_t available = ring.available_frames();
    report.max_available_seen = std::max(report.max_available_seen, available);
    if (available == 0) {
      sleep_until_ready(
          slot.data_ready, [&] { return ring.available_frames() > 0; }, kSleepTimeout);
      // Either the producer stopped, or its notify_sleeper() did not wake us (lost wake-up).
      if (std::chrono::steady_clock::now() - last_progress >= kStallLimit) {
        report.outcome = StreamOutcome::kStalled;
        break;
      }
      continue;
    }
    const auto chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(uneven_chunk(step, max_chunk), available));
    ring.consume(chunk, [&](const float* piece, std::uint32_t frames, std::uint32_t offset) {
      for (std::uint32_t f = 0; f < frames && report.mismatches == 0; ++f) {
        const std::uint64_t frame = report.frames_read + offset + f;
        for (std::uint32_t c = 0; c < channels; ++c) {
          const float value = piece[std::size_t{f} * channels + c];
          if (value != counting_value(frame, c, channels)) {
            report.mismatches = 1;
            report.first_bad_frame = frame;
            report.first_bad_channel = c;
            report.first_bad_value = value;
            break;
          }
        }
      }
    });
    report.frames_read += chunk;
    notify_sleeper(slot.space_ready);
    last_progress = std::chrono::steady_clock::now();
    if (report.mismatches != 0) break;
  }
  if (report.outcome != StreamOutcome::kDone || report.mismatches != 0) {
    abandon.store(1, std::memory_order_release);
    wake_always(slot.space_ready);
  }
  return report;
}

void expect_clean_stream(const ConsumerReport& report, std::uint64_t total_frames,
                         std::uint32_t capacity_frames, std::uint32_t channels) {
  EXPECT_EQ(report.outcome, StreamOutcome::kDone)
      << "the consumer waited 10 s without progress or a wake-up after " << report.frames_read
      << " frames";
  EXPECT_EQ(report.mismatches, 0u)
      << "frame " << report.first_bad_frame << " channel " << report.first_bad_channel << " holds "
      << report.first_bad_value << ", expected "
      << counting_value(report.first_bad_frame, report.first_bad_channel, channels);
  EXPECT_EQ(report.frames_read, total_frames);
  EXPECT_LE(report.max_available_seen, capacity_frames);
}

}  // namespace synthfarm::testing
