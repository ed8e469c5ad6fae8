#include "bdl/nn/losses/kl_div.h"

#include <algorithm>
#include <cmath>

#include "nn/dense.h"
#include "nn/losses/targets.h"

namespace bdl::nn {

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
  check_value_targets(type(), input, target);
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

void KLDiv::sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) {
  check_value_targets(type(), input, target);
  const Tensor& x = dense(input, dense_input_);
  const Tensor& y = dense(target, dense_target_);
  per_sample_sums(type(), x.numel(), x.size(0), 1.0 / divisor(x), out, [&](int64_t j) {
    const double yj = y.f32()[j];
    BDL_CHECK(yj >= 0, "KLDiv: target[", j, "] = ", yj, " is not a probability");
    return yj > 0 ? yj * (std::log(yj) - x.f32()[j]) : 0.0;
  });
}

const Tensor& KLDiv::backward(const Tensor& input, const Tensor& target) {
  check_value_targets(type(), input, target);
  const Tensor& y = dense(target, dense_target_);
  grad_input_.resize(input.shape());
  const auto scale = static_cast<float>(1.0 / divisor(input));
  float* g = grad_input_.f32();
  for (int64_t i = 0; i < input.numel(); ++i) g[i] = -y.f32()[i] * scale;
  return grad_input_;
}

}  // namespace bdl::nn
