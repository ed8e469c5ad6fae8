#include "bdl/nn/losses/criterion.h"

#include <cmath>

namespace bdl::nn {
namespace {

void check_weights(const std::string& who, const Tensor& input, const Tensor& weights) {
  BDL_CHECK(weights.dtype() == DType::f32 && weights.dim() == 1 && input.dim() >= 1 &&
                weights.size(0) == input.size(0),
            who, ": sample weights of shape ", weights.shape_str(), " for a batch of shape ",
            input.shape_str(), "; expected (batch) f32");
}

}  // namespace

float Criterion::weighted_forward(const Tensor& input, const Tensor& target,
                                  const Tensor& weights) {
  if (!weights.defined()) return forward(input, target);
  check_weights(type(), input, weights);
  sample_losses_.resize(static_cast<size_t>(input.size(0)));
  sample_losses(input, target, sample_losses_);
  const Tensor w = weights.contiguous();
  double total = 0;
  for (size_t i = 0; i < sample_losses_.size(); ++i) total += w.f32()[i] * sample_losses_[i];
  return static_cast<float>(total);
}

const Tensor& Criterion::weighted_backward(const Tensor& input, const Tensor& target,
                                           const Tensor& weights) {
  const Tensor& g = backward(input, target);
  if (!weights.defined()) return g;
  check_weights(type(), input, weights);
  BDL_CHECK(&g == &grad_input_ && grad_input_.is_contiguous(), type(),
            ": weighted backward needs a dense gradient buffer");
  const Tensor w = weights.contiguous();
  const int64_t n = input.size(0);
  const int64_t per_sample = n == 0 ? 0 : grad_input_.numel() / n;
  float* gs = grad_input_.f32();
  for (int64_t i = 0; i < n; ++i) {
    const float wi = w.f32()[i];
    for (int64_t j = 0; j < per_sample; ++j) gs[i * per_sample + j] *= wi;
  }
  return grad_input_;
}

}  // namespace bdl::nn
