#pragma once

#include "bdl/nn/losses/criterion.h"

namespace bdl::nn {

// Negative log-likelihood of log-probabilities (batch, classes) against i64 class
// indices, averaged over the batch; with class weights the average is weighted
// (sum w[y] * -x[y] / sum w[y]), as torch.nn.NLLLoss.
class ClassNLL : public Criterion {
 public:
  ClassNLL() = default;
  explicit ClassNLL(const Tensor& class_weights);
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) override;
  std::string type() const override { return "ClassNLL"; }
  bool takes_class_indices() const override { return true; }
  OutputKind output_kind() const override { return OutputKind::log_probabilities; }

 private:
  Tensor weights_;
};

}  // namespace bdl::nn
