// Writes the seed corpus of segment_header_fuzzer: segments made by Segment::create and filled
// in as the coordinator fills them (coordinator_run.cpp, create_segment), then some broken
// copies. Not built by default:
//   cmake --build build --target segment_seed_writer
//   build/segment_seed_writer tests/fuzz/corpus/segment_header
// Rerun it when the layout changes (kLayoutVersion): the old seeds would all be refused.

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "shared/segment.h"

namespace {

using namespace synthfarm;

struct Shape {
  std::uint32_t workers;
  std::uint32_t channels;
  std::uint32_t ring_frames;
  std::uint32_t block_frames;
  std::vector<std::uint32_t> group_sizes;  // one per worker
};

std::vector<unsigned char> image_of(const Shape& shape) {
  std::uint64_t total = 0;
  for (const std::uint32_t count : shape.group_sizes) total += count;
  const std::string name = "synthfarm-seed-writer-" + std::to_string(getpid());
  std::string error;
  auto segment =
      Segment::create(name, shape.workers, shape.channels, shape.ring_frames, total, error);
  if (!segment) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  Segment::remove_name(name, error);
  SegmentHeader& header = segment->header();
  header.sample_rate_hz = 48000;
  header.block_frames = shape.block_frames;
  header.fill_target_frames = shape.ring_frames;
  header.coordinator_pid = 4242;
  header.kernel = 1;
  std::uint64_t next = 0;
  for (std::uint32_t w = 0; w < shape.workers; ++w) {
    segment->slot(w).first_oscillator = next;
    segment->slot(w).oscillator_count = shape.group_sizes[w];
    next += shape.group_sizes[w];
  }
  for (std::uint64_t k = 0; k < total; ++k) segment->frequencies_hz()[k] = 440.0 + k;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&header);
  return {bytes, bytes + segment->geometry().segment_bytes};
}

template <typename T>
void put(std::vector<unsigned char>& image, std::size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof value);
}

void write(const std::string& directory, const std::string& name,
           const std::vector<unsigned char>& image) {
  std::ofstream(directory + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()),
             static_cast<std::streamsize>(image.size()));
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  const std::string directory = argv[1];
  const auto one = image_of({1, 1, 16, 16, {1}});
  write(directory, "valid-1-worker-1-channel", one);
  write(directory, "valid-2-workers-2-channels", image_of({2, 2, 32, 16, {2, 1}}));
  write(directory, "valid-3-workers-one-with-no-oscillator", image_of({3, 1, 16, 16, {1, 1, 0}}));
  write(directory, "valid-no-oscillator-at-all", image_of({1, 2, 16, 16, {0}}));

  const std::size_t slots = compute_segment_geometry(1, 1, 16, 1).slots_offset;
  auto image = one;
  // 2^61 + 1 oscillators: eight bytes each wraps the table size to 8, the size of one.
  put<std::uint64_t>(image, offsetof(SegmentHeader, oscillator_total), (1ull << 61) + 1);
  write(directory, "bad-oscillator-total-wraps-the-table-size", image);
  image = one;
  put<std::uint64_t>(image, slots + offsetof(WorkerSlot, ring_offset), 0);
  write(directory, "bad-ring-offset-on-the-header", image);
  image = one;
  put<std::uint64_t>(image, slots + offsetof(WorkerSlot, first_oscillator), ~0ull);
  write(directory, "bad-group-first-oscillator-wraps", image);
  image = one;
  put<std::uint32_t>(image, slots + offsetof(WorkerSlot, oscillator_count), 2);
  write(directory, "bad-group-past-the-table", image);
  image = one;
  put<std::uint32_t>(image, offsetof(SegmentHeader, layout_version), kLayoutVersion - 1);
  write(directory, "bad-layout-version", image);
  image = one;
  put<std::uint32_t>(image, offsetof(SegmentHeader, ring_frames), 24);
  write(directory, "bad-ring-frames-not-a-power-of-two", image);
  image = one;
  image.resize(image.size() - 8);
  write(directory, "bad-mapping-shorter-than-the-segment", image);
  write(directory, "bad-only-the-header", {one.begin(), one.begin() + sizeof(SegmentHeader)});
  write(directory, "bad-shorter-than-the-header", {one.begin(), one.begin() + 64});
  write(directory, "bad-empty", {});
  return 0;
}
