// Fuzz target: the check a worker makes on the segment it attaches to, check_mapped_segment
// (shared/segment_layout.h; Segment::attach and attach_descriptor call it). Input: the mapped
// memory as the worker finds it, its size being the mapping's.
//
// Property: a segment the check accepts is one whose every region the worker reaches (header,
// every slot, its ring, both frequency tables, its group of oscillators) lies inside the
// mapping. Checked by arithmetic without overflow, and by reading each region: the input sits
// in a heap block of exactly its size, so AddressSanitizer also catches a read past its end.

#include <cstring>
#include <memory>
#include <new>

#include "shared/segment_layout.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using synthfarm::SegmentHeader;
using synthfarm::WorkerSlot;

// 128 bits, so that no sum of 64-bit offsets and sizes here can wrap.
__extension__ typedef unsigned __int128 Wide;

struct Mapping {
  const unsigned char* base;
  std::size_t size;

  // Checks that [offset, offset + bytes) lies inside, then reads every byte of it.
  void touch(Wide offset, Wide bytes) const {
    FUZZ_CHECK(offset + bytes <= size);
    unsigned sum = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(bytes); ++i) {
      sum += base[static_cast<std::size_t>(offset) + i];
    }
    volatile unsigned sink = sum;  // keeps the reads
    (void)sink;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  // Mapped memory is page-aligned; the check may assume SegmentHeader's alignment.
  constexpr std::align_val_t kAlignment{alignof(SegmentHeader)};
  const std::unique_ptr<unsigned char, void (*)(unsigned char*)> copy(
      static_cast<unsigned char*>(::operator new(size == 0 ? 1 : size, kAlignment)),
      [](unsigned char* memory) { ::operator delete(memory, kAlignment); });
  if (size > 0) std::memcpy(copy.get(), data, size);

  const std::string mismatch = check_mapped_segment(copy.get(), size);
  if (!mismatch.empty()) {
    FUZZ_CHECK(fuzz::is_printable(mismatch));
    return 0;
  }
  const Mapping mapping{copy.get(), size};
  mapping.touch(0, sizeof(SegmentHeader));
  const auto& header = *reinterpret_cast<const SegmentHeader*>(copy.get());
  const SegmentGeometry geometry = compute_segment_geometry(
      header.worker_count, header.channels, header.ring_frames, header.oscillator_total);
  const Wide table_bytes = Wide{header.oscillator_total} * sizeof(double);
  mapping.touch(header.frequency_table_offset, table_bytes);
  mapping.touch(header.staging_table_offset, table_bytes);
  const Wide ring_bytes = Wide{header.ring_frames} * header.channels * sizeof(float);
  FUZZ_CHECK(header.fill_target_frames <= header.ring_frames);
  FUZZ_CHECK(header.block_frames >= 1 && header.block_frames <= header.ring_frames);
  for (std::uint32_t w = 0; w < header.worker_count; ++w) {
    const Wide slot_offset = Wide{geometry.slots_offset} + Wide{w} * sizeof(WorkerSlot);
    mapping.touch(slot_offset, sizeof(WorkerSlot));
    const auto& slot =
        *reinterpret_cast<const WorkerSlot*>(copy.get() + static_cast<std::size_t>(slot_offset));
    mapping.touch(slot.ring_offset, ring_bytes);
    const Wide group_end = Wide{slot.first_oscillator} + slot.oscillator_count;
    FUZZ_CHECK(group_end <= header.oscillator_total);
    mapping.touch(header.frequency_table_offset + Wide{slot.first_oscillator} * sizeof(double),
                  Wide{slot.oscillator_count} * sizeof(double));
  }
  return 0;
}
