#pragma once

#include "bdl/nn/losses/criterion.h"

namespace bdl::nn {

// Kullback-Leibler divergence of a target distribution from the input's: input
// holds log-probabilities, target probabilities, as torch.nn.KLDivLoss. Batch
// mean (sum over all elements / batch size) is the default: it is the true KL
// divergence per sample, which PyTorch's element mean is not.
class KLDiv : public Criterion {
 public:
  enum class Mode { batch_mean, mean, sum };
  explicit KLDiv(Mode mode = Mode::batch_mean) : mode_(mode) {}
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) override;
  std::string type() const override { return "KLDiv"; }
  OutputKind output_kind() const override { return OutputKind::log_probabilities; }

 private:
  double divisor(const Tensor& input) const;
  Mode mode_;
  Tensor dense_input_, dense_target_;
};

}  // namespace bdl::nn
