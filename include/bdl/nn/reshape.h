#pragma once

#include "bdl/nn/module.h"

namespace bdl::nn {

// Views each sample as the given shape (batch dimension kept; one entry may be -1).
// No copy when the input is contiguous.
class Reshape : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit Reshape(Shape sample_shape);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Reshape"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  Shape sample_shape_;
  Tensor dense_, dense_grad_;
};

// (batch, d1, d2, ...) -> (batch, d1*d2*...).
class Flatten : public Reshape {
 public:
  Flatten() : Reshape({-1}) {}
  std::string type() const override { return "Flatten"; }
  std::string describe() const override { return "Flatten"; }
};

}  // namespace bdl::nn
