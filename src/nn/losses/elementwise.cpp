#include "bdl/nn/losses/elementwise.h"

#include <algorithm>
#include <cmath>

#include "nn/dense.h"
#include "nn/losses/targets.h"

namespace bdl::nn {

void ElementwiseLoss::check(const Tensor& input, const Tensor& target) const {
  check_value_targets(type(), input, target);
}

float ElementwiseLoss::forward(const Tensor& input, const Tensor& target) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  const float* xs = x.f32();
  const float* ys = y.f32();
  double total = 0;
  for (int64_t i = 0; i < x.numel(); ++i) total += loss(xs[i], ys[i]);
  if (reduction_ == Reduction::mean) total /= static_cast<double>(x.numel());
  return static_cast<float>(total);
}

void ElementwiseLoss::sample_losses(const Tensor& input, const Tensor& target,
                                    std::span<double> out) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  const double scale = reduction_ == Reduction::mean ? 1.0 / static_cast<double>(x.numel()) : 1.0;
  per_sample_sums(type(), x.numel(), x.size(0), scale, out,
                  [&](int64_t j) { return loss(x.f32()[j], y.f32()[j]); });
}

const Tensor& ElementwiseLoss::backward(const Tensor& input, const Tensor& target) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  grad_input_.resize(x.shape());
  const float scale = reduction_ == Reduction::mean ? 1.f / static_cast<float>(x.numel()) : 1.f;
  const float* xs = x.f32();
  const float* ys = y.f32();
  float* g = grad_input_.f32();
  for (int64_t i = 0; i < x.numel(); ++i) g[i] = scale * grad(xs[i], ys[i]);
  return grad_input_;
}

double MSE::loss(float x, float y) const {
  const double d = double{x} - y;
  return d * d;
}
float MSE::grad(float x, float y) const { return 2.f * (x - y); }

double L1::loss(float x, float y) const { return std::abs(double{x} - y); }
float L1::grad(float x, float y) const {
  const float d = x - y;
  return static_cast<float>((d > 0) - (d < 0));
}

SmoothL1::SmoothL1(float beta, Reduction reduction) : ElementwiseLoss(reduction), beta_(beta) {
  BDL_CHECK(beta >= 0, "SmoothL1: beta must be non-negative, got ", beta);
}
double SmoothL1::loss(float x, float y) const {
  const double d = std::abs(double{x} - y);
  return d < beta_ ? 0.5 * d * d / beta_ : d - 0.5 * beta_;
}
float SmoothL1::grad(float x, float y) const {
  const float d = x - y;
  if (std::abs(d) < beta_) return d / beta_;
  return static_cast<float>((d > 0) - (d < 0));
}

double BCE::loss(float p, float y) const {
  BDL_CHECK(p >= 0 && p <= 1, "BCE: input ", p, " is not a probability in [0, 1]");
  const double log_p = std::max(std::log(double{p}), -100.0);
  const double log_q = std::max(std::log1p(-double{p}), -100.0);
  return -(y * log_p + (1 - double{y}) * log_q);
}
// PyTorch's: (p - y) / max((1 - p) p, 1e-12).
float BCE::grad(float p, float y) const {
  return static_cast<float>((double{p} - y) / std::max((1 - double{p}) * p, 1e-12));
}

}  // namespace bdl::nn
