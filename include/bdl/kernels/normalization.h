#pragma once

#include <cstdint>
#include <memory>

#include "bdl/core/tensor.h"
#include "bdl/kernels/backend.h"

namespace bdl::kernels {

// Batch normalisation of a 4-d (N, C, H, W) tensor over N, H and W per channel,
// on oneDNN, in the layout of its input. The variance it reports is the biased
// one (divided by N*H*W), as the normalisation uses.
class BatchNormKernel {
 public:
  explicit BatchNormKernel(float eps);
  ~BatchNormKernel();
  BatchNormKernel(BatchNormKernel&&) noexcept;
  BatchNormKernel& operator=(BatchNormKernel&&) noexcept;

  // Normalises with the batch's statistics and writes them to mean and variance.
  // scale and shift are both given (affine) or both null.
  void forward_training(const Tensor& src, const float* scale, const float* shift, float* mean,
                        float* variance, Tensor& dst);
  // Normalises with given statistics.
  void forward_inference(const Tensor& src, const float* scale, const float* shift,
                         const float* mean, const float* variance, Tensor& dst);
  // Backward of the last forward (training: through the batch statistics;
  // inference: statistics held constant) with the mean and variance it used.
  // Writes grad_src, and grad_scale/grad_shift when the forward was affine.
  void backward(const Tensor& src, const Tensor& grad_dst, const float* scale, const float* shift,
                const float* mean, const float* variance, Tensor& grad_src, float* grad_scale,
                float* grad_shift);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Local response normalisation across channels of a 4-d tensor (AlexNet,
// Inception v1): dst = src / (k + alpha / size * sum of src^2 over `size`
// neighbouring channels)^beta. size must be odd (the window is centred).
class LrnKernel {
 public:
  LrnKernel(int64_t size, float alpha, float beta, float k);
  ~LrnKernel();
  LrnKernel(LrnKernel&&) noexcept;
  LrnKernel& operator=(LrnKernel&&) noexcept;

  void forward(const Tensor& src, Tensor& dst, Pass pass = Pass::training);
  // Backward of the last forward, whose src this must be.
  void backward(const Tensor& src, const Tensor& grad_dst, Tensor& grad_src);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bdl::kernels
