#pragma once
// A segment as the coordinator creates it, for a test that is the coordinator and every worker
// in one process (it writes the rings itself and calls the mixer directly). Header-only: its
// users link synthfarm_shared already.

#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "shared/segment.h"

namespace synthfarm::testing {

// What the coordinator writes into the header before the output starts.
struct RunShape {
  std::uint32_t workers;
  std::uint32_t channels;
  std::uint32_t ring_frames;  // a power of two
  std::uint32_t sample_rate_hz;
  std::uint32_t block_frames;
  std::uint32_t fill_target_frames;
};

// Thread: the test's. Creates the segment under a name of its own (`tag`, this process and a
// count) with one oscillator per worker, removes the name at once, as the coordinator does once
// its workers have attached (the mapping stays; nothing is left in /dev/shm even if the test
// crashes), and writes `shape` into the header. nullopt with `error` saying why on failure.
inline std::optional<Segment> create_in_process_segment(const std::string& tag,
                                                        const RunShape& shape, std::string& error) {
  static int created = 0;
  const std::string name =
      "synthfarm-test-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(++created);
  std::optional<Segment> segment =
      Segment::create(name, shape.workers, shape.channels, shape.ring_frames, shape.workers, error);
  if (!segment) return std::nullopt;
  if (!Segment::remove_name(name, error)) return std::nullopt;
  SegmentHeader& header = segment->header();
  header.sample_rate_hz = shape.sample_rate_hz;
  header.block_frames = shape.block_frames;
  header.fill_target_frames = shape.fill_target_frames;
  header.coordinator_pid = getpid();
  return segment;
}

}  // namespace synthfarm::testing
