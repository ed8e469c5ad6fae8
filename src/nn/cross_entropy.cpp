#include "bdl/nn/cross_entropy.h"

#include <cmath>

#include "kernels/eltwise.h"
#include "nn/targets.h"

namespace bdl::nn {

CrossEntropy::CrossEntropy() : log_softmax_(std::make_unique<kernels::SoftmaxKernel>(true)) {}
CrossEntropy::CrossEntropy(const Tensor& class_weights) : CrossEntropy() {
  weights_ = class_weights.contiguous();
  BDL_CHECK(weights_.dim() == 1, "CrossEntropy: class weights must be 1-d, got ",
            weights_.shape_str());
}
CrossEntropy::~CrossEntropy() = default;
CrossEntropy::CrossEntropy(CrossEntropy&&) noexcept = default;

void CrossEntropy::compute_log_probs(const Tensor& input, const Tensor& target) {
  check_class_targets("CrossEntropy", input, target);
  BDL_CHECK(!weights_.defined() || weights_.numel() == input.size(1),
            "CrossEntropy: ", weights_.numel(), " class weights for ", input.size(1), " classes");
  const Tensor x = input.contiguous();
  log_probs_.resize(x.shape());
  log_softmax_->forward(x.size(0), x.size(1), x.f32(), log_probs_.f32());
}

float CrossEntropy::forward(const Tensor& input, const Tensor& target) {
  compute_log_probs(input, target);
  const int64_t n = input.size(0), c = input.size(1);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  double total = 0, weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float w = weight_of(y[i]);
    total -= static_cast<double>(w) * log_probs_.f32()[i * c + y[i]];
    weight_sum += w;
  }
  return static_cast<float>(total / weight_sum);
}

// d/dx_ij = w[y_i] (softmax_ij - [j == y_i]) / sum_i w[y_i].
const Tensor& CrossEntropy::backward(const Tensor& input, const Tensor& target) {
  compute_log_probs(input, target);
  const int64_t n = input.size(0), c = input.size(1);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  double weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) weight_sum += weight_of(y[i]);
  grad_input_.resize(input.shape());
  const float* lp = log_probs_.f32();
  float* g = grad_input_.f32();
  for (int64_t i = 0; i < n; ++i) {
    const auto scale = static_cast<float>(weight_of(y[i]) / weight_sum);
    for (int64_t j = 0; j < c; ++j) g[i * c + j] = scale * std::exp(lp[i * c + j]);
    g[i * c + y[i]] -= scale;
  }
  return grad_input_;
}

}  // namespace bdl::nn
