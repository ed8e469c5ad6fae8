#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/kernels/backend.h"

namespace bdl::kernels {

// Geometry of a 2-d convolution on NCHW data with OIHW (grouped: G,O/G,I/G,H,W)
// weights. Padding may be asymmetric; dilation is PyTorch's (1 = dense).
struct Conv2dGeometry {
  int64_t batch = 0, in_channels = 0, in_height = 0, in_width = 0;
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool has_bias = true;

  int64_t out_height() const {
    return (in_height + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1;
  }
  int64_t out_width() const {
    return (in_width + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) / stride_w + 1;
  }
  std::vector<int64_t> key() const;
};

// What an inference convolution applies to its result as it writes it, in the
// same pass over dst: a BatchNorm folded in (weights scaled per output channel,
// the bias replaced), a residual added, a ReLU. ResNet's conv-BN-add-ReLU then
// reads and writes its output once instead of four times.
struct ConvEpilogue {
  const float* scale = nullptr;      // per output channel, or null: no folding
  const float* shift = nullptr;      // per output channel, added after the scale
  const Tensor* residual = nullptr;  // of dst's shape, added after the shift
  bool relu = false;
};

// Convolution forward, backward-data and backward-weights on oneDNN, with the
// created primitives cached per geometry and input layout. Activations may come
// in any layout; outputs are produced in the layout oneDNN prefers (channel-
// blocked on AVX-512). Weights and gradients stay plain OIHW in the caller's
// buffers and are reordered to and from the primitive's layout.
class Conv2dKernel {
 public:
  Conv2dKernel();
  ~Conv2dKernel();
  Conv2dKernel(Conv2dKernel&&) noexcept;
  Conv2dKernel& operator=(Conv2dKernel&&) noexcept;

  // With relu, writes max(conv, 0): oneDNN's ReLU post-op, fused into the
  // convolution's own pass over dst. Backward is the same either way.
  void forward(const Conv2dGeometry& g, const Tensor& src, const float* weight, const float* bias,
               Tensor& dst, Pass pass = Pass::training, bool relu = false);
  // The forward for inference with an epilogue: dst = relu(scale * conv(src, weight)
  // + scale * bias + shift + residual), each part when given. Keeps nothing for
  // backward. Returns false, having done nothing, where oneDNN has no fused
  // kernel for these layouts: the caller then runs the parts separately.
  bool forward_fused(const Conv2dGeometry& g, const Tensor& src, const float* weight,
                     const float* bias, Tensor& dst, const ConvEpilogue& epilogue);
  // Backward of the last forward() with this geometry: src must be the input it
  // was given and unchanged since. Computes grad_src unless it is null, and writes
  // (does not accumulate) the weight and bias gradients.
  void backward(const Conv2dGeometry& g, const Tensor& src, const Tensor& grad_dst,
                Tensor* grad_src, float* grad_weight, float* grad_bias);
  // The oneDNN implementations chosen for a geometry, for `bdl info` and benchmarks.
  std::string implementation(const Conv2dGeometry& g);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
