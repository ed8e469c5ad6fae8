#pragma once

#include <memory>

#include "bdl/nn/multi_input.h"

namespace bdl::nn {

// The matrix product with NumPy's rules, as torch.matmul and ONNX MatMul: the
// last two dimensions multiply, leading dimensions broadcast; a 1-d operand is a
// row (first) or a column (second) vector whose added dimension is dropped.
// Either of two inputs, or of one input and a weight the layer owns (input x
// weight), trainable like Linear's but without its transpose.
class MatMul : public MultiInputModule {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  MatMul() { grad_inputs_.resize(2); }
  explicit MatMul(Shape weight_shape);

  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  size_t arity() const override { return weight_.defined() ? 1 : 2; }
  std::string type() const override { return "MatMul"; }
  std::string describe() const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  Tensor& weight() { return weight_; }

 private:
  // Both operands as batches of matrices: shapes (..., m, k) and (..., k, n)
  // after promoting 1-d operands, and the broadcast batch shape.
  struct Plan {
    Shape a, b, batch, out;
    int64_t m = 0, k = 0, n = 0;
  };
  Plan plan(const Shape& a, const Shape& b) const;

  Tensor weight_, grad_weight_;
  Tensor dense_[2], dense_grad_, scratch_;
};

}  // namespace bdl::nn
