#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/kernels/backend.h"

namespace bdl::kernels {

enum class PoolKind { max, avg_include_padding, avg_exclude_padding };

// Geometry of 2-d pooling on NCHW data. Ceil mode is expressed by the caller as
// extra bottom/right padding, as oneDNN expects.
struct Pool2dGeometry {
  int64_t batch = 0, channels = 0, in_height = 0, in_width = 0;
  int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  PoolKind kind = PoolKind::max;

  int64_t out_height() const {
    return (in_height + pad_top + pad_bottom - kernel_h) / stride_h + 1;
  }
  int64_t out_width() const { return (in_width + pad_left + pad_right - kernel_w) / stride_w + 1; }
  std::vector<int64_t> key() const;
};

// Pooling forward and backward in the layout of its input (plain or blocked).
// Max pooling over 8/16-channel blocks runs bdl's own loops and
// finds the argmax again in backward from the input; other cases run on oneDNN,
// whose max pooling keeps its workspace (the argmax) from the last forward.
class Pool2dKernel {
 public:
  Pool2dKernel();
  ~Pool2dKernel();
  Pool2dKernel(Pool2dKernel&&) noexcept;
  Pool2dKernel& operator=(Pool2dKernel&&) noexcept;

  void forward(const Pool2dGeometry& g, const Tensor& src, Tensor& dst, Pass pass = Pass::training);
  // Backward of the last forward(), which must have had geometry g and input src.
  // With rectify, also the backward of a ReLU whose output src is: the gradient
  // is kept only where src > 0 (for max pooling, where the window's maximum is).
  void backward(const Pool2dGeometry& g, const Tensor& src, const Tensor& grad_dst,
                Tensor& grad_src, bool rectify = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
