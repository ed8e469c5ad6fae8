#pragma once

#include <vector>

#include "bdl/optim/optim_method.h"

namespace bdl::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// Stochastic gradient descent as torch.optim.SGD: g += wd * w; with momentum
// b = m * b + (1 - dampening) * g (b = g on the first step); nesterov uses
// g + m * b, otherwise b; w -= lr * that.
class SGD : public OptimMethod {
 public:
  explicit SGD(SGDOptions options);
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override { options_.lr = lr; }
  MethodState state() const override;
  void set_state(MethodState state) override;
  const std::vector<float>& momentum_buffer() const { return momentum_; }

 private:
  SGDOptions options_;
  std::vector<float> momentum_;
  bool first_step_ = true;
};

}  // namespace bdl::optim
