#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bdl/kernels/backend.h"

namespace bdl::kernels {

// y = x W^T + b for x (batch, in), W (out, in), b (out): oneDNN inner product,
// primitives cached per (batch, in, out, bias).
class InnerProductKernel {
 public:
  InnerProductKernel();
  ~InnerProductKernel();
  InnerProductKernel(InnerProductKernel&&) noexcept;
  InnerProductKernel& operator=(InnerProductKernel&&) noexcept;

  void forward(int64_t batch, int64_t in, int64_t out, bool has_bias, const float* src,
               const float* weight, const float* bias, float* dst, Pass pass = Pass::training);
  void backward_data(int64_t batch, int64_t in, int64_t out, const float* grad_dst,
                     const float* weight, float* grad_src);
  // Writes (does not accumulate) the weight and bias gradients.
  void backward_weights(int64_t batch, int64_t in, int64_t out, bool has_bias, const float* src,
                        const float* grad_dst, float* grad_weight, float* grad_bias);
  std::string implementation(int64_t batch, int64_t in, int64_t out, bool has_bias);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
