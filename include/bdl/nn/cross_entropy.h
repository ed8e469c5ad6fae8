#pragma once

#include <memory>

#include "bdl/nn/criterion.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

// Log-softmax and negative log-likelihood in one step on logits (batch, classes),
// as torch.nn.CrossEntropyLoss (mean over the batch, optional class weights).
class CrossEntropy : public Criterion {
 public:
  CrossEntropy();
  explicit CrossEntropy(const Tensor& class_weights);
  ~CrossEntropy() override;
  CrossEntropy(CrossEntropy&&) noexcept;
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  std::string type() const override { return "CrossEntropy"; }

 private:
  float weight_of(int64_t cls) const { return weights_.defined() ? weights_.f32()[cls] : 1.f; }
  void compute_log_probs(const Tensor& input, const Tensor& target);

  Tensor weights_;
  Tensor log_probs_;
  std::unique_ptr<kernels::SoftmaxKernel> log_softmax_;
};

}  // namespace bdl::nn
