#include "bdl/nn/losses/class_nll.h"

#include "nn/losses/targets.h"

namespace bdl::nn {

ClassNLL::ClassNLL(const Tensor& class_weights) : weights_(class_weights.contiguous()) {
  BDL_CHECK(weights_.dim() == 1, "ClassNLL: class weights must be 1-d, got ", weights_.shape_str());
}

namespace {
float weight_of(const Tensor& weights, int64_t cls) {
  return weights.defined() ? weights.f32()[cls] : 1.f;
}
void check_weights(const Tensor& weights, const Tensor& input) {
  BDL_CHECK(!weights.defined() || weights.numel() == input.size(1), "ClassNLL: ", weights.numel(),
            " class weights for ", input.size(1), " classes");
}
}  // namespace

float ClassNLL::forward(const Tensor& input, const Tensor& target) {
  check_class_targets("ClassNLL", input, target);
  check_weights(weights_, input);
  const Tensor x = input.contiguous();
  const Tensor t = target.contiguous();
  const int64_t n = x.size(0), c = x.size(1);
  double total = 0, weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = t.data<int64_t>()[i];
    const float w = weight_of(weights_, y);
    total -= static_cast<double>(w) * x.f32()[i * c + y];
    weight_sum += w;
  }
  return static_cast<float>(total / weight_sum);
}

void ClassNLL::sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) {
  check_class_targets("ClassNLL", input, target);
  check_weights(weights_, input);
  const Tensor x = input.contiguous();
  const Tensor t = target.contiguous();
  const int64_t n = x.size(0), c = x.size(1);
  BDL_CHECK(static_cast<int64_t>(out.size()) == n, "ClassNLL: ", out.size(),
            " sample losses for a batch of ", n);
  double weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) weight_sum += weight_of(weights_, t.data<int64_t>()[i]);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = t.data<int64_t>()[i];
    out[static_cast<size_t>(i)] =
        -static_cast<double>(weight_of(weights_, y)) * x.f32()[i * c + y] / weight_sum;
  }
}

const Tensor& ClassNLL::backward(const Tensor& input, const Tensor& target) {
  check_class_targets("ClassNLL", input, target);
  check_weights(weights_, input);
  const Tensor t = target.contiguous();
  const int64_t n = input.size(0), c = input.size(1);
  double weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) weight_sum += weight_of(weights_, t.data<int64_t>()[i]);
  grad_input_.resize(input.shape());
  grad_input_.zero();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = t.data<int64_t>()[i];
    grad_input_.f32()[i * c + y] = static_cast<float>(-weight_of(weights_, y) / weight_sum);
  }
  return grad_input_;
}

}  // namespace bdl::nn
