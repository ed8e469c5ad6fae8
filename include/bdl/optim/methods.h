#pragma once

// The optimisation methods beyond SGD and Adam. Each works on a slice of the
// flat buffers with state sized to that slice, so its state is sharded when the
// sync gives each worker one slice. Formulas are torch.optim's, step for step.

#include <vector>

#include "bdl/optim/adam.h"
#include "bdl/optim/optim_method.h"

namespace bdl::optim {

// Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW:
// w *= 1 - lr * wd, then Adam's step on the plain gradient.
class AdamW : public OptimMethod {
 public:
  explicit AdamW(AdamOptions options);  // weight_decay defaults to 0 here; torch's is 0.01
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override;
  MethodState state() const override { return adam_.state(); }
  void set_state(MethodState state) override { adam_.set_state(std::move(state)); }

 private:
  AdamOptions options_;
  Adam adam_;
};

struct AdagradOptions {
  double lr = 0.01;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator = 0.0;
  double eps = 1e-10;
};

// As torch.optim.Adagrad: s += g^2; w -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps).
class Adagrad : public OptimMethod {
 public:
  explicit Adagrad(AdagradOptions options);
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override { options_.lr = lr; }
  MethodState state() const override;
  void set_state(MethodState state) override;

 private:
  AdagradOptions options_;
  std::vector<float> sum_;
  int64_t t_ = 0;
};

struct RMSpropOptions {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};

// As torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2; centered subtracts the
// squared running mean of g; with momentum b = m b + g / (sqrt(v) + eps).
class RMSprop : public OptimMethod {
 public:
  explicit RMSprop(RMSpropOptions options);
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override { options_.lr = lr; }
  MethodState state() const override;
  void set_state(MethodState state) override;

 private:
  RMSpropOptions options_;
  std::vector<float> square_avg_, grad_avg_, momentum_;
};

struct LARSOptions {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double trust_coefficient = 0.001;  // eta
  double eps = 1e-9;
  // Whether biases and BatchNorm parameters (1-d tensors) skip the trust ratio
  // and weight decay (plain momentum SGD), as some large-batch recipes do. Off by
  // default, as in the paper: on Fashion-MNIST with BatchNorm, adapting them too
  // ended 2 points higher at batch 8192 (docs/large-batch.md).
  bool exclude_vectors = false;
};

// Layer-wise adaptive rate scaling (You, Gitman and Ginsburg, 2017): for each
// parameter tensor, trust = eta ||w|| / (||g|| + wd ||w|| + eps) (1 when either
// norm is 0); d = trust (g + wd w); b = m b + d; w -= lr b. Norms are of whole
// tensors even when a slice boundary cuts one: the partial sums of squares are
// added over the workers (one small allreduce per step).
class LARS : public OptimMethod {
 public:
  explicit LARS(LARSOptions options);
  void step(std::span<float> weights, std::span<const float> grads) override;
  std::string describe() const override;
  double learning_rate() const override { return options_.lr; }
  void set_learning_rate(double lr) override { options_.lr = lr; }
  MethodState state() const override;
  void set_state(MethodState state) override;
  void set_context(const SliceContext& context) override { context_ = context; }
  // The trust ratio of each parameter in the last step (for tests and logs).
  const std::vector<double>& trust_ratios() const { return trust_; }

 private:
  // A parameter tensor as (offset in the flat buffer, length, is 1-d).
  struct Part {
    int64_t start, length;
    bool vector;
  };
  LARSOptions options_;
  SliceContext context_;
  std::vector<float> momentum_;
  std::vector<Part> parts_;  // reused across steps
  std::vector<double> norms_, trust_;
};

}  // namespace bdl::optim
