#include "bdl/nn/losses/bce_with_logits.h"

#include <algorithm>
#include <cmath>

#include "nn/dense.h"
#include "nn/losses/targets.h"

namespace bdl::nn {

BCEWithLogits::BCEWithLogits(const Tensor& pos_weight, Reduction reduction)
    : pos_weight_(pos_weight.defined() ? pos_weight.contiguous() : Tensor()),
      reduction_(reduction) {
  BDL_CHECK(!pos_weight_.defined() || pos_weight_.dim() == 1,
            "BCEWithLogits: pos_weight must be 1-d, got ", pos_weight_.shape_str());
}

void BCEWithLogits::check(const Tensor& input, const Tensor& target) const {
  check_value_targets(type(), input, target);
  BDL_CHECK(!pos_weight_.defined() || pos_weight_.numel() == input.shape().back(), type(), ": ",
            pos_weight_.numel(), " positive weights for inputs of shape ", input.shape_str(),
            " (one per entry of the last dimension)");
}

// With w = pos_weight: loss = (1 - y) x + (1 + (w - 1) y) softplus(-x), computed
// stably; d/dx = (1 - y) - (1 + (w - 1) y) sigmoid(-x).
double BCEWithLogits::element_loss(const Tensor& x, const Tensor& y, int64_t i) const {
  const double xi = x.f32()[i], yi = y.f32()[i];
  const double softplus_neg = std::max(-xi, 0.0) + std::log1p(std::exp(-std::abs(xi)));
  return (1 - yi) * xi + (1 + (pos_weight_of(i, x.shape().back()) - 1) * yi) * softplus_neg;
}

float BCEWithLogits::forward(const Tensor& input, const Tensor& target) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  double total = 0;
  for (int64_t i = 0; i < x.numel(); ++i) total += element_loss(x, y, i);
  if (reduction_ == Reduction::mean) total /= static_cast<double>(x.numel());
  return static_cast<float>(total);
}

void BCEWithLogits::sample_losses(const Tensor& input, const Tensor& target,
                                  std::span<double> out) {
  check(input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  const double scale = reduction_ == Reduction::mean ? 1.0 / static_cast<double>(x.numel()) : 1.0;
  per_sample_sums(type(), x.numel(), x.size(0), scale, out,
                  [&](int64_t j) { return element_loss(x, y, j); });
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

}  // namespace bdl::nn
