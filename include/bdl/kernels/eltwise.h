#pragma once

#include <cstdint>
#include <memory>

#include "bdl/core/tensor.h"
#include "bdl/kernels/backend.h"

namespace bdl::kernels {

// alpha and beta as oneDNN defines them: relu's negative slope, elu's alpha,
// clip's bounds.
enum class Eltwise : int { relu, elu, tanh, sigmoid, gelu_erf, gelu_tanh, clip };

// Element-wise activations on oneDNN, in the layout of their input (plain or
// blocked, padding kept as oneDNN requires).
class EltwiseKernel {
 public:
  explicit EltwiseKernel(Eltwise kind, float alpha = 0.f, float beta = 0.f);
  ~EltwiseKernel();
  EltwiseKernel(EltwiseKernel&&) noexcept;
  EltwiseKernel& operator=(EltwiseKernel&&) noexcept;

  void forward(const Tensor& src, Tensor& dst, Pass pass = Pass::training);
  // grad_src = f'(src) * grad_dst, in src's layout.
  void backward(const Tensor& src, const Tensor& grad_dst, Tensor& grad_src);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Softmax or log-softmax over the middle axis of an (outer, axis, inner) array.
class SoftmaxKernel {
 public:
  explicit SoftmaxKernel(bool log);
  ~SoftmaxKernel();
  SoftmaxKernel(SoftmaxKernel&&) noexcept;
  SoftmaxKernel& operator=(SoftmaxKernel&&) noexcept;

  void forward(int64_t outer, int64_t axis, int64_t inner, const float* src, float* dst,
               Pass pass = Pass::training);
  // Uses the forward output dst.
  void backward(int64_t outer, int64_t axis, int64_t inner, const float* dst, const float* grad_dst,
                float* grad_src);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
