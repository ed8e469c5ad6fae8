#pragma once

#include <memory>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Applies a module to every time step of (N, T, ...) input by folding time into
// the batch: (N*T, ...) through the module, then back to (N, T, ...).
class TimeDistributed : public Layer<TimeDistributed> {
 public:
  static constexpr std::string_view kType = "TimeDistributed";
  static std::unique_ptr<Module> create(const Attributes& a, Children children);
  explicit TimeDistributed(std::unique_ptr<Module> module);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  std::vector<Module*> children() override { return {module_.get()}; }
  void set_needs_input_grad(bool needed) override;

 private:
  static Shape fold(const Shape& s);
  std::unique_ptr<Module> module_;
  Tensor folded_input_;
};

}  // namespace bdl::nn
