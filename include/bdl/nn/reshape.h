#pragma once

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Views each sample as the given shape (batch dimension kept; one entry may be -1).
// No copy when the input is contiguous.
class ReshapeBase : public Module {
 public:
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;

 protected:
  explicit ReshapeBase(Shape sample_shape);
  Shape sample_shape_;

 private:
  Tensor dense_, dense_grad_;
};

struct ReshapeOptions {
  Shape shape = {};  // of one sample
  static void fields(auto& o, auto& field) { field("shape", o.shape); }
};

class Reshape : public Layer<Reshape, ReshapeBase> {
 public:
  static constexpr std::string_view kType = "Reshape";
  explicit Reshape(ReshapeOptions options) : Layer(std::move(options.shape)) {}
  explicit Reshape(Shape sample_shape) : Layer(std::move(sample_shape)) {}
  ReshapeOptions options() const { return {sample_shape_}; }
};

// (batch, d1, d2, ...) -> (batch, d1*d2*...).
class Flatten : public Layer<Flatten, ReshapeBase> {
 public:
  static constexpr std::string_view kType = "Flatten";
  Flatten() : Layer(Shape{-1}) {}
};

}  // namespace bdl::nn
