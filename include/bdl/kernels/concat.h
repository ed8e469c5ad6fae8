#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::kernels {

// Concatenation along one axis on oneDNN: inputs in any layouts (channel-blocked
// convolution outputs stay blocked when the output can be), and the backward
// split of the output gradient into each input's part, in that input's layout.
class ConcatKernel {
 public:
  ConcatKernel();
  ~ConcatKernel();
  ConcatKernel(ConcatKernel&&) noexcept;
  ConcatKernel& operator=(ConcatKernel&&) noexcept;

  void forward(const std::vector<const Tensor*>& srcs, int64_t axis, Tensor& dst);
  // grad_srcs[i] gets the part of grad_dst that belongs to srcs[i] (the inputs of
  // the last forward), laid out like srcs[i].
  void backward(const std::vector<const Tensor*>& srcs, int64_t axis, const Tensor& grad_dst,
                std::vector<Tensor>& grad_srcs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
