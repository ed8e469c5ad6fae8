#include "bdl/nn/regression_losses.h"

#include <algorithm>
#include <cmath>

#include "nn/dense.h"

namespace bdl::nn {
namespace {

void check_pair(const std::string& who, const Tensor& input, const Tensor& target) {
  BDL_CHECK(input.dtype() == DType::f32 && target.dtype() == DType::f32, who,
            ": input and target must be f32, got ", dtype_name(input.dtype()), " and ",
            dtype_name(target.dtype()));
  BDL_CHECK(input.shape() == target.shape(), who, ": target of shape ", target.shape_str(),
            " does not match input of shape ", input.shape_str());
  BDL_CHECK(input.numel() > 0, who, ": empty input");
}

}  // namespace

void ElementwiseLoss::check(const Tensor& input, const Tensor& target) const {
  check_pair(type(), input, target);
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

BCEWithLogits::BCEWithLogits(Tensor pos_weight, Reduction reduction)
    : pos_weight_(pos_weight.defined() ? pos_weight.contiguous() : Tensor()),
      reduction_(reduction) {
  BDL_CHECK(!pos_weight_.defined() || pos_weight_.dim() == 1,
            "BCEWithLogits: pos_weight must be 1-d, got ", pos_weight_.shape_str());
}

void BCEWithLogits::check(const Tensor& input, const Tensor& target) const {
  check_pair(type(), input, target);
  BDL_CHECK(!pos_weight_.defined() || pos_weight_.numel() == input.shape().back(), type(), ": ",
            pos_weight_.numel(), " positive weights for inputs of shape ", input.shape_str(),
            " (one per entry of the last dimension)");
}

// With w = pos_weight: loss = (1 - y) x + (1 + (w - 1) y) softplus(-x), computed
// stably; d/dx = (1 - y) - (1 + (w - 1) y) sigmoid(-x).
float BCEWithLogits::forward(const Tensor& input, const Tensor& target) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  const int64_t classes = x.shape().back();
  double total = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double xi = x.f32()[i], yi = y.f32()[i];
    const double softplus_neg = std::max(-xi, 0.0) + std::log1p(std::exp(-std::abs(xi)));
    total += (1 - yi) * xi + (1 + (pos_weight_of(i, classes) - 1) * yi) * softplus_neg;
  }
  if (reduction_ == Reduction::mean) total /= static_cast<double>(x.numel());
  return static_cast<float>(total);
}

const Tensor& BCEWithLogits::backward(const Tensor& input, const Tensor& target) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  const int64_t classes = x.shape().back();
  grad_input_.resize(x.shape());
  const double scale = reduction_ == Reduction::mean ? 1.0 / static_cast<double>(x.numel()) : 1.0;
  float* g = grad_input_.f32();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double xi = x.f32()[i], yi = y.f32()[i];
    const double sigmoid_neg = 1.0 / (1.0 + std::exp(xi));
    g[i] = static_cast<float>(
        scale * ((1 - yi) - (1 + (pos_weight_of(i, classes) - 1) * yi) * sigmoid_neg));
  }
  return grad_input_;
}

double KLDiv::divisor(const Tensor& input) const {
  switch (mode_) {
    case Mode::batch_mean:
      return static_cast<double>(input.dim() > 0 ? input.size(0) : 1);
    case Mode::mean:
      return static_cast<double>(input.numel());
    case Mode::sum:
      return 1.0;
  }
  return 1.0;
}

// sum of y (log y - x), terms with y = 0 counting 0.
float KLDiv::forward(const Tensor& input, const Tensor& target) {
  check_pair(type(), input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  double total = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double yi = y.f32()[i];
    BDL_CHECK(yi >= 0, "KLDiv: target[", i, "] = ", yi, " is not a probability");
    if (yi > 0) total += yi * (std::log(yi) - x.f32()[i]);
  }
  return static_cast<float>(total / divisor(x));
}

const Tensor& KLDiv::backward(const Tensor& input, const Tensor& target) {
  check_pair(type(), input, target);
  const Tensor& y = dense(target, dense_target_);
  grad_input_.resize(input.shape());
  const auto scale = static_cast<float>(1.0 / divisor(input));
  float* g = grad_input_.f32();
  for (int64_t i = 0; i < input.numel(); ++i) g[i] = -y.f32()[i] * scale;
  return grad_input_;
}

}  // namespace bdl::nn
