#include "shared/segment_layout.h"

namespace synthfarm {
namespace {

std::uint64_t round_up_to_cache_line(std::uint64_t bytes) {
  return (bytes + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
}

std::string field_mismatch(const char* field, std::uint64_t found, std::uint64_t expected) {
  return std::string("segment field '") + field + "' is " + std::to_string(found) +
         ", this build expects " + std::to_string(expected) +
         " (coordinator and worker come from different builds? rebuild both)";
}

}  // namespace

SegmentGeometry compute_segment_geometry(std::uint32_t worker_count, std::uint32_t channels,
                                         std::uint32_t ring_frames,
                                         std::uint64_t oscillator_total) {
  SegmentGeometry geometry;
  geometry.slots_offset = round_up_to_cache_line(sizeof(SegmentHeader));
  geometry.rings_offset =
      geometry.slots_offset + round_up_to_cache_line(sizeof(WorkerSlot) * worker_count);
  geometry.ring_bytes =
      round_up_to_cache_line(std::uint64_t{ring_frames} * channels * sizeof(float));
  geometry.frequency_table_offset = geometry.rings_offset + geometry.ring_bytes * worker_count;
  const std::uint64_t table_bytes = round_up_to_cache_line(oscillator_total * sizeof(double));
  geometry.staging_table_offset = geometry.frequency_table_offset + table_bytes;
  geometry.segment_bytes = geometry.staging_table_offset + table_bytes;
  return geometry;
}

std::string check_segment_header(const SegmentHeader& header, std::uint64_t mapped_bytes) {
  if (mapped_bytes < sizeof(SegmentHeader)) {
    return "segment is " + std::to_string(mapped_bytes) + " bytes, smaller than its header";
  }
  if (header.magic != kSegmentMagic) return field_mismatch("magic", header.magic, kSegmentMagic);
  if (header.layout_version != kLayoutVersion) {
    return field_mismatch("layout_version", header.layout_version, kLayoutVersion);
  }
  if (header.header_bytes != sizeof(SegmentHeader)) {
    return field_mismatch("header_bytes", header.header_bytes, sizeof(SegmentHeader));
  }
  if (header.slot_bytes != sizeof(WorkerSlot)) {
    return field_mismatch("slot_bytes", header.slot_bytes, sizeof(WorkerSlot));
  }
  if (header.worker_count == 0 || header.worker_count > kMaxWorkers) {
    return field_mismatch("worker_count", header.worker_count, kMaxWorkers);
  }
  if (header.channels == 0 || header.channels > kMaxChannels) {
    return field_mismatch("channels", header.channels, kMaxChannels);
  }
  if (!is_power_of_two(header.ring_frames)) {
    return "segment field 'ring_frames' is " + std::to_string(header.ring_frames) +
           ", not a power of two";
  }
  if (header.block_frames == 0 || header.block_frames > kMaxBlockFrames ||
      header.fill_target_frames > header.ring_frames || header.block_frames > header.ring_frames) {
    return "segment fields 'block_frames' " + std::to_string(header.block_frames) +
           ", 'fill_target_frames' " + std::to_string(header.fill_target_frames) +
           " and 'ring_frames' " + std::to_string(header.ring_frames) + " are inconsistent";
  }
  // Both tables hold one double per oscillator. A count the mapping cannot hold is refused
  // before it is multiplied: 2^61 oscillators would wrap the tables' size to 0 bytes and pass.
  if (header.oscillator_total > mapped_bytes / (2 * sizeof(double))) {
    return "segment field 'oscillator_total' is " + std::to_string(header.oscillator_total) +
           ", more than its " + std::to_string(mapped_bytes) + " mapped bytes can hold";
  }
  const SegmentGeometry geometry = compute_segment_geometry(
      header.worker_count, header.channels, header.ring_frames, header.oscillator_total);
  if (header.segment_bytes != geometry.segment_bytes) {
    return field_mismatch("segment_bytes", header.segment_bytes, geometry.segment_bytes);
  }
  if (header.frequency_table_offset != geometry.frequency_table_offset) {
    return field_mismatch("frequency_table_offset", header.frequency_table_offset,
                          geometry.frequency_table_offset);
  }
  if (header.staging_table_offset != geometry.staging_table_offset) {
    return field_mismatch("staging_table_offset", header.staging_table_offset,
                          geometry.staging_table_offset);
  }
  if (mapped_bytes < geometry.segment_bytes) {
    return field_mismatch("mapped size", mapped_bytes, geometry.segment_bytes);
  }
  return {};
}

std::string check_mapped_segment(const void* mapped, std::uint64_t mapped_bytes) {
  if (mapped_bytes < sizeof(SegmentHeader)) {
    return "segment is " + std::to_string(mapped_bytes) + " bytes, smaller than its header";
  }
  const auto& header = *static_cast<const SegmentHeader*>(mapped);
  std::string mismatch = check_segment_header(header, mapped_bytes);
  if (!mismatch.empty()) return mismatch;
  // The header passed: these offsets lie inside the mapping.
  const SegmentGeometry geometry = compute_segment_geometry(
      header.worker_count, header.channels, header.ring_frames, header.oscillator_total);
  const auto* slots =
      reinterpret_cast<const WorkerSlot*>(static_cast<const char*>(mapped) + geometry.slots_offset);
  for (std::uint32_t w = 0; w < header.worker_count; ++w) {
    const WorkerSlot& slot = slots[w];
    const std::string which = "worker " + std::to_string(w) + "'s ";
    const std::uint64_t ring_offset = geometry.rings_offset + w * geometry.ring_bytes;
    if (slot.ring_offset != ring_offset) {
      return which + field_mismatch("ring_offset", slot.ring_offset, ring_offset);
    }
    if (slot.first_oscillator > header.oscillator_total ||
        slot.oscillator_count > header.oscillator_total - slot.first_oscillator) {
      return which + "oscillators " + std::to_string(slot.first_oscillator) + " + " +
             std::to_string(slot.oscillator_count) + " run past the segment's " +
             std::to_string(header.oscillator_total);
    }
  }
  return {};
}

}  // namespace synthfarm
