#pragma once

#include <vector>

#include "bdl/optim/optim_method.h"

namespace bdl::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// Adam (Kingma and Ba, 2015) as torch.optim.Adam: g += wd * w (L2, not decoupled);
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
// Moments are sized to the slice the method is given.
class Adam : public OptimMethod {
 public:
  explicit Adam(AdamOptions options);
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override { options_.lr = lr; }
  MethodState state() const override;
  void set_state(MethodState state) override;
  const std::vector<float>& first_moment() const { return m_; }

 private:
  AdamOptions options_;
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

}  // namespace bdl::optim
