#pragma once

#include <span>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::nn {

// What a model's outputs are to its loss, for metrics that need probabilities
// (thresholds) or scores: logits (softmax over classes, or a sigmoid per entry
// for independent labels), probabilities, log-probabilities, or plain values.
enum class OutputKind { values, logits, probabilities, log_probabilities };

// A loss: forward(input, target) returns the mean loss over the batch;
// backward(input, target) returns d(loss)/d(input). Like modules, the gradient
// buffer is a member reused across iterations.
class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual float forward(const Tensor& input, const Tensor& target) = 0;
  virtual const Tensor& backward(const Tensor& input, const Tensor& target) = 0;
  virtual std::string type() const = 0;
  // Each sample's part of forward()'s loss, one per sample into `out`: they sum
  // to it. Per-sample weights scale these parts.
  virtual void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) = 0;
  // True when targets are i64 class indices (batch); false when they are f32
  // values of the input's shape.
  virtual bool takes_class_indices() const { return false; }
  virtual OutputKind output_kind() const { return OutputKind::values; }

  // With per-sample weights w (batch) f32 (Keras's sample_weight): the sum over
  // samples of w_i times sample i's part of the loss, and its gradient (row i of
  // backward()'s scaled by w_i). An undefined w is forward() and backward().
  float weighted_forward(const Tensor& input, const Tensor& target, const Tensor& weights);
  const Tensor& weighted_backward(const Tensor& input, const Tensor& target, const Tensor& weights);

 protected:
  Tensor grad_input_;

 private:
  std::vector<double> sample_losses_;
};

}  // namespace bdl::nn
