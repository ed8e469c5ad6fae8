#include "bdl/nn/dropout.h"

#include "nn/dense.h"

namespace bdl::nn {

Dropout::Dropout(DropoutOptions options) : p_(options.p), rng_(global_rng().next_u64()) {
  BDL_CHECK(p_ >= 0 && p_ < 1, "Dropout: p must be in [0, 1), got ", p_);
}

const Tensor& Dropout::forward(const Tensor& input) {
  if (!training_ || p_ == 0) {
    output_ = input;
    return output_;
  }
  const Tensor& x = dense(input, dense_input_);
  output_.resize(x.shape());
  const auto n = static_cast<size_t>(x.numel());
  mask_.resize(n);
  const float scale = 1.f / (1.f - p_);
  // 32 bits of each draw decide one element: p is resolved to 2^-32.
  const auto threshold = static_cast<uint64_t>(static_cast<double>(p_) * 4294967296.0);
  const float* xs = x.f32();
  float* ys = output_.f32();
  for (size_t i = 0; i < n; i += 2) {
    const uint64_t r = rng_.next_u64();
    mask_[i] = (r & 0xffffffffu) >= threshold;
    if (i + 1 < n) mask_[i + 1] = (r >> 32) >= threshold;
  }
  for (size_t i = 0; i < n; ++i) ys[i] = mask_[i] ? xs[i] * scale : 0.f;
  return output_;
}

const Tensor& Dropout::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!training_ || p_ == 0) {
    grad_input_ = grad_output;
    return grad_input_;
  }
  if (!needs_input_grad_) return grad_input_;
  BDL_CHECK(mask_.size() == static_cast<size_t>(input.numel()), label(),
            ": backward without a training forward of this shape");
  const Tensor& dy = dense(grad_output, dense_grad_);
  grad_input_.resize(dy.shape());
  const float scale = 1.f / (1.f - p_);
  const float* dys = dy.f32();
  float* dxs = grad_input_.f32();
  for (size_t i = 0; i < mask_.size(); ++i) dxs[i] = mask_[i] ? dys[i] * scale : 0.f;
  return grad_input_;
}

const RegisterLayers<Dropout> kRegistered;

}  // namespace bdl::nn
