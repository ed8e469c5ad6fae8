#pragma once

#include <memory>

#include "bdl/nn/losses/criterion.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

// Log-softmax and negative log-likelihood in one step on logits (batch, classes),
// as torch.nn.CrossEntropyLoss: mean over the batch weighted by the targets'
// class weights, and optional label smoothing (the target distribution is
// 1 - s on the label plus s / classes everywhere).
class CrossEntropy : public Criterion {
 public:
  CrossEntropy();
  explicit CrossEntropy(const Tensor& class_weights, float label_smoothing = 0.f);
  ~CrossEntropy() override;
  CrossEntropy(CrossEntropy&&) noexcept;
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) override;
  std::string type() const override { return "CrossEntropy"; }
  bool takes_class_indices() const override { return true; }
  OutputKind output_kind() const override { return OutputKind::logits; }

 private:
  float weight_of(int64_t cls) const { return weights_.defined() ? weights_.f32()[cls] : 1.f; }
  void compute_log_probs(const Tensor& input, const Tensor& target);

  Tensor weights_;
  float smoothing_ = 0.f;
  Tensor log_probs_;
  std::unique_ptr<kernels::SoftmaxKernel> log_softmax_;
};

}  // namespace bdl::nn
