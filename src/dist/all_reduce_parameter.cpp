#include "bdl/dist/all_reduce_parameter.h"

#include <algorithm>

#include "bdl/core/error.h"

namespace bdl::dist {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes
constexpr int kReduceScatterTag = 101;
constexpr int kAllGatherTag = 102;

void encode(WireFormat format, std::span<const float> in, uint16_t* out) {
  if (format == WireFormat::fp16) {
    encode_fp16(in, out);
  } else {
    encode_bf16(in, out);
  }
}

void decode_add(WireFormat format, const uint16_t* in, std::span<float> out) {
  if (format == WireFormat::fp16) {
    decode_fp16_add(in, out);
  } else {
    decode_bf16_add(in, out);
  }
}

}  // namespace

AllReduceParameter::AllReduceParameter(Communicator& comm, int64_t numel, WireFormat format,
                                       int64_t chunk_bytes)
    : comm_(comm), numel_(numel), format_(format) {
  BDL_CHECK(numel >= 0, "AllReduceParameter: negative size ", numel);
  BDL_CHECK(chunk_bytes >= 64, "AllReduceParameter: chunk of ", chunk_bytes, " bytes");
  const int64_t n = comm.size();
  slice_stride_ = ((numel + n - 1) / n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  chunk_elems_ = std::max<int64_t>(chunk_bytes / static_cast<int64_t>(wire_bytes(format)), 1);
  const auto max_slice = static_cast<size_t>(slice_stride_);
  if (format == WireFormat::fp32) {
    recv_f32_.resize(max_slice);
  } else {
    send_16_.resize(max_slice);
    recv_16_.resize(max_slice);
    forward_16_.resize(max_slice);
    delta_16_.resize(max_slice);
    delta_.resize(max_slice);
  }
}

Slice AllReduceParameter::slice(int rank) const {
  const int64_t begin = std::min(numel_, rank * slice_stride_);
  const int64_t end = std::min(numel_, begin + slice_stride_);
  return {begin, end - begin};
}

void AllReduceParameter::reduce_scatter(std::span<float> grads) {
  BDL_CHECK(static_cast<int64_t>(grads.size()) == numel_, "reduce_scatter: ", grads.size(),
            " gradients for a buffer of ", numel_);
  const int n = comm_.size();
  const int r = comm_.rank();
  for (int step = 0; step < n - 1; ++step) {
    // Ring: pass slice (r - step - 1) on; receive slice (r - step - 2), add it in.
    // After n - 1 steps slice r has been through every worker.
    const Slice out = slice(wrap(r - step - 1));
    const Slice in = slice(wrap(r - step - 2));
    std::vector<Slice> pieces;
    for (int64_t first = 0; first < in.length; first += chunk_elems_) {
      pieces.push_back({first, std::min(chunk_elems_, in.length - first)});
    }
    const size_t unit = wire_bytes(format_);
    for (const Slice& p : pieces) {
      void* target = format_ == WireFormat::fp32 ? static_cast<void*>(recv_f32_.data() + p.offset)
                                                 : static_cast<void*>(recv_16_.data() + p.offset);
      comm_.irecv(target, static_cast<size_t>(p.length) * unit, previous(), kReduceScatterTag);
    }
    const std::span<const float> out_values =
        grads.subspan(static_cast<size_t>(out.offset), static_cast<size_t>(out.length));
    for (int64_t first = 0; first < out.length; first += chunk_elems_) {
      const int64_t length = std::min(chunk_elems_, out.length - first);
      const auto piece =
          out_values.subspan(static_cast<size_t>(first), static_cast<size_t>(length));
      if (format_ == WireFormat::fp32) {
        comm_.isend(piece.data(), static_cast<size_t>(length) * 4, next(), kReduceScatterTag);
      } else {
        encode(format_, piece, send_16_.data() + first);
        comm_.isend(send_16_.data() + first, static_cast<size_t>(length) * 2, next(),
                    kReduceScatterTag);
      }
    }
    comm_.wait_receives("reduce-scatter of gradients", [&](size_t i) {
      const Slice& p = pieces[i];
      const auto target =
          grads.subspan(static_cast<size_t>(in.offset + p.offset), static_cast<size_t>(p.length));
      if (format_ == WireFormat::fp32) {
        const float* src = recv_f32_.data() + p.offset;
        float* dst = target.data();
#pragma omp simd
        for (int64_t j = 0; j < p.length; ++j) dst[j] += src[j];
      } else {
        decode_add(format_, recv_16_.data() + p.offset, target);
      }
    });
    comm_.wait_all("reduce-scatter of gradients");
  }
}

void AllReduceParameter::all_gather(std::span<float> weights, std::span<const float> own_before) {
  BDL_CHECK(static_cast<int64_t>(weights.size()) == numel_, "all_gather: ", weights.size(),
            " weights for a buffer of ", numel_);
  const int n = comm_.size();
  const int r = comm_.rank();
  const Slice own = own_slice();
  const bool compressed = format_ != WireFormat::fp32;
  if (compressed) {
    BDL_CHECK(static_cast<int64_t>(own_before.size()) == own.length,
              "all_gather: 16-bit updates need the owned slice before the update");
    // The owner applies exactly the rounded update it sends.
    auto mine = weights.subspan(static_cast<size_t>(own.offset), static_cast<size_t>(own.length));
    for (int64_t j = 0; j < own.length; ++j) delta_[j] = mine[j] - own_before[j];
    encode(format_, std::span<const float>(delta_.data(), static_cast<size_t>(own.length)),
           delta_16_.data());
    std::copy(own_before.begin(), own_before.end(), mine.begin());
    decode_add(format_, delta_16_.data(), mine);
  }
  // Ring: pass on slice (r - step), which this worker owns (step 0) or received
  // in the previous step; receive slice (r - step - 1).
  const uint16_t* forward = delta_16_.data();
  for (int step = 0; step < n - 1; ++step) {
    const Slice out = slice(wrap(r - step));
    const Slice in = slice(wrap(r - step - 1));
    if (!compressed) {
      comm_.irecv(weights.data() + in.offset, static_cast<size_t>(in.length) * 4, previous(),
                  kAllGatherTag);
      comm_.isend(weights.data() + out.offset, static_cast<size_t>(out.length) * 4, next(),
                  kAllGatherTag);
      comm_.wait_all("all-gather of weights");
      continue;
    }
    comm_.irecv(recv_16_.data(), static_cast<size_t>(in.length) * 2, previous(), kAllGatherTag);
    comm_.isend(forward, static_cast<size_t>(out.length) * 2, next(), kAllGatherTag);
    comm_.wait_all("all-gather of weight updates");
    decode_add(format_, recv_16_.data(),
               weights.subspan(static_cast<size_t>(in.offset), static_cast<size_t>(in.length)));
    // What arrived is forwarded unchanged at the next step.
    std::swap(recv_16_, forward_16_);
    forward = forward_16_.data();
  }
}

}  // namespace bdl::dist
