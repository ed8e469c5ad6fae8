#pragma once

#include "bdl/nn/losses/criterion.h"
#include "bdl/nn/losses/elementwise.h"

namespace bdl::nn {

// Sigmoid and binary cross-entropy in one numerically stable step on logits, as
// torch.nn.BCEWithLogitsLoss; pos_weight (one per class, the last dimension)
// weighs the positive term: fraud detection's rare class.
class BCEWithLogits : public Criterion {
 public:
  explicit BCEWithLogits(const Tensor& pos_weight = {}, Reduction reduction = Reduction::mean);
  float forward(const Tensor& input, const Tensor& target) override;
  const Tensor& backward(const Tensor& input, const Tensor& target) override;
  void sample_losses(const Tensor& input, const Tensor& target, std::span<double> out) override;
  std::string type() const override { return "BCEWithLogits"; }
  OutputKind output_kind() const override { return OutputKind::logits; }

 private:
  void check(const Tensor& input, const Tensor& target) const;
  // The loss of element i of the dense input x and target y.
  double element_loss(const Tensor& x, const Tensor& y, int64_t i) const;
  float pos_weight_of(int64_t i, int64_t classes) const {
    return pos_weight_.defined() ? pos_weight_.f32()[i % classes] : 1.f;
  }
  Tensor pos_weight_;
  Reduction reduction_;
  Tensor dense_input_, dense_target_;
};

}  // namespace bdl::nn
