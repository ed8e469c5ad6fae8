#include "bdl/nn/losses/cross_entropy.h"

#include <cmath>

#include "bdl/kernels/eltwise.h"
#include "nn/losses/targets.h"

namespace bdl::nn {

CrossEntropy::CrossEntropy() : log_softmax_(std::make_unique<kernels::SoftmaxKernel>(true)) {}
CrossEntropy::CrossEntropy(const Tensor& class_weights, float label_smoothing) : CrossEntropy() {
  if (class_weights.defined()) {
    weights_ = class_weights.contiguous();
    BDL_CHECK(weights_.dim() == 1, "CrossEntropy: class weights must be 1-d, got ",
              weights_.shape_str());
  }
  BDL_CHECK(label_smoothing >= 0 && label_smoothing <= 1, "CrossEntropy: label_smoothing ",
            label_smoothing, " is not in [0, 1]");
  smoothing_ = label_smoothing;
}
CrossEntropy::~CrossEntropy() = default;
CrossEntropy::CrossEntropy(CrossEntropy&&) noexcept = default;

void CrossEntropy::compute_log_probs(const Tensor& input, const Tensor& target) {
  check_class_targets("CrossEntropy", input, target);
  BDL_CHECK(!weights_.defined() || weights_.numel() == input.size(1),
            "CrossEntropy: ", weights_.numel(), " class weights for ", input.size(1), " classes");
  const Tensor x = input.contiguous();
  log_probs_.resize(x.shape());
  log_softmax_->forward(x.size(0), x.size(1), 1, x.f32(), log_probs_.f32());
}

float CrossEntropy::forward(const Tensor& input, const Tensor& target) {
  compute_log_probs(input, target);
  const int64_t n = input.size(0), c = input.size(1);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  const float* lp = log_probs_.f32();
  double total = 0, smooth = 0, weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float w = weight_of(y[i]);
    total -= static_cast<double>(w) * lp[i * c + y[i]];
    weight_sum += w;
    if (smoothing_ > 0) {
      for (int64_t j = 0; j < c; ++j) smooth -= static_cast<double>(weight_of(j)) * lp[i * c + j];
    }
  }
  const double s = smoothing_;
  return static_cast<float>(((1 - s) * total + s / static_cast<double>(c) * smooth) / weight_sum);
}

void CrossEntropy::sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) {
  compute_log_probs(input, target);
  const int64_t n = input.size(0), c = input.size(1);
  BDL_CHECK(static_cast<int64_t>(out.size()) == n, "CrossEntropy: ", out.size(),
            " sample losses for a batch of ", n);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  const float* lp = log_probs_.f32();
  double weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) weight_sum += weight_of(y[i]);
  const double s = smoothing_;
  for (int64_t i = 0; i < n; ++i) {
    double smooth = 0;
    for (int64_t j = 0; j < c && s > 0; ++j)
      smooth -= static_cast<double>(weight_of(j)) * lp[i * c + j];
    const double own = -static_cast<double>(weight_of(y[i])) * lp[i * c + y[i]];
    out[static_cast<size_t>(i)] =
        ((1 - s) * own + s / static_cast<double>(c) * smooth) / weight_sum;
  }
}

// d/dx_ij = w[y_i] (softmax_ij - [j == y_i]) / sum_i w[y_i] without smoothing;
// smoothing s mixes in s / C * (softmax_ij * sum_k w[k] - w[j]) / sum_i w[y_i].
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
  const double s = smoothing_;
  double all_weights = 0;
  for (int64_t j = 0; j < c && s > 0; ++j) all_weights += weight_of(j);
  const double spread = s / static_cast<double>(c) / weight_sum;
  for (int64_t i = 0; i < n; ++i) {
    const double scale = (1 - s) * weight_of(y[i]) / weight_sum;
    const double p_scale = scale + spread * all_weights;
    for (int64_t j = 0; j < c; ++j) {
      g[i * c + j] = static_cast<float>(p_scale * std::exp(lp[i * c + j]) - spread * weight_of(j));
    }
    g[i * c + y[i]] -= static_cast<float>(scale);
  }
  return grad_input_;
}

}  // namespace bdl::nn
