#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bdl/dist/communicator.h"
#include "bdl/dist/wire_format.h"

namespace bdl::dist {

// A contiguous range of the flat parameter buffer.
struct Slice {
  int64_t offset = 0;
  int64_t length = 0;
};

// BigDL's parameter synchronisation over a flat buffer of n floats. The buffer is
// cut into size() slices aligned to 64 bytes (the last may be shorter, and with
// tiny buffers some may be empty); worker r owns slice r. reduce_scatter() leaves
// each worker with the sum over workers of its own slice of the gradients;
// all_gather() sends each owner's slice of the weights to everyone. Both are rings
// over non-blocking point-to-point messages, cut into chunks so that reducing one
// chunk overlaps the transfer of the next: each worker sends and receives
// (N-1)/N of the buffer per collective, which is bandwidth-optimal.
class AllReduceParameter {
 public:
  AllReduceParameter(Communicator& comm, int64_t numel, WireFormat format = WireFormat::fp32,
                     int64_t chunk_bytes = int64_t{1} << 20);

  Slice slice(int rank) const;
  Slice own_slice() const { return slice(comm_.rank()); }
  WireFormat format() const { return format_; }

  // grads: this worker's full gradient buffer. Afterwards its own slice holds the
  // sum over all workers; the other slices are left partially reduced (scratch).
  void reduce_scatter(std::span<float> grads);

  // Makes every worker's weights equal to the owners' slices. With a 16-bit wire
  // format the owners send their slice's update (weights - own_before) rounded
  // to 16 bits, and apply that same rounded update to their own copy, so every
  // replica ends bit-identical. own_before: the owned slice before the update
  // (unused for fp32).
  void all_gather(std::span<float> weights, std::span<const float> own_before = {});

 private:
  int next() const { return (comm_.rank() + 1) % comm_.size(); }
  int previous() const { return (comm_.rank() + comm_.size() - 1) % comm_.size(); }
  int wrap(int64_t r) const {
    return static_cast<int>(((r % comm_.size()) + comm_.size()) % comm_.size());
  }

  Communicator& comm_;
  int64_t numel_;
  WireFormat format_;
  int64_t slice_stride_;  // elements per slice but the last
  int64_t chunk_elems_;
  std::vector<float> recv_f32_;
  std::vector<uint16_t> send_16_, recv_16_, forward_16_, delta_16_;
  std::vector<float> delta_;
};

}  // namespace bdl::dist
