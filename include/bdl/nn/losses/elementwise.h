#pragma once

#include "bdl/nn/losses/criterion.h"

namespace bdl::nn {

// How a criterion reduces its per-element losses.
enum class Reduction { mean, sum };

// Base of the criteria that compare an input with a target of the same shape
// element by element: loss = reduce(f(input - target)).
class ElementwiseLoss : public Criterion {
 public:
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) override;
  Reduction reduction() const { return reduction_; }

 protected:
  explicit ElementwiseLoss(Reduction reduction) : reduction_(reduction) {}
  // The loss of one element and its derivative with respect to the input.
  virtual double loss(float input, float target) const = 0;
  virtual float grad(float input, float target) const = 0;

 private:
  void check(const Tensor& input, const Tensor& target) const;
  Reduction reduction_;
  Tensor dense_input_, dense_target_;
};

// (x - y)^2, as torch.nn.MSELoss.
class MSE : public ElementwiseLoss {
 public:
  explicit MSE(Reduction reduction = Reduction::mean) : ElementwiseLoss(reduction) {}
  std::string type() const override { return "MSE"; }

 protected:
  double loss(float x, float y) const override;
  float grad(float x, float y) const override;
};

// |x - y|, as torch.nn.L1Loss (gradient 0 where x == y).
class L1 : public ElementwiseLoss {
 public:
  explicit L1(Reduction reduction = Reduction::mean) : ElementwiseLoss(reduction) {}
  std::string type() const override { return "L1"; }

 protected:
  double loss(float x, float y) const override;
  float grad(float x, float y) const override;
};

// Huber-like: 0.5 (x - y)^2 / beta where |x - y| < beta, |x - y| - 0.5 beta
// otherwise, as torch.nn.SmoothL1Loss.
class SmoothL1 : public ElementwiseLoss {
 public:
  explicit SmoothL1(float beta = 1.f, Reduction reduction = Reduction::mean);
  std::string type() const override { return "SmoothL1"; }

 protected:
  double loss(float x, float y) const override;
  float grad(float x, float y) const override;

 private:
  float beta_;
};

// Binary cross-entropy on probabilities in [0, 1], as torch.nn.BCELoss (the log
// clamped at -100 as there).
class BCE : public ElementwiseLoss {
 public:
  explicit BCE(Reduction reduction = Reduction::mean) : ElementwiseLoss(reduction) {}
  std::string type() const override { return "BCE"; }
  OutputKind output_kind() const override { return OutputKind::probabilities; }

 protected:
  double loss(float p, float y) const override;
  float grad(float p, float y) const override;
};

}  // namespace bdl::nn
