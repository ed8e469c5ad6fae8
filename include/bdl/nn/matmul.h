#pragma once

#include <memory>
#include <optional>

#include "bdl/nn/layer.h"
#include "bdl/nn/multi_input.h"

namespace bdl::nn {

// The matrix product with NumPy's rules, as torch.matmul and ONNX MatMul: the
// last two dimensions multiply, leading dimensions broadcast; a 1-d operand is a
// row (first) or a column (second) vector whose added dimension is dropped.
// Either of two inputs, or of one input and a weight the layer owns (input x
// weight), trainable like Linear's but without its transpose.
struct MatMulOptions {
  std::optional<Shape> weight_shape = {};  // of the layer's own second operand, if any
  static void fields(auto& o, auto& field) { field("weight_shape", o.weight_shape); }
};

class MatMul : public Layer<MatMul, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "MatMul";
  explicit MatMul(const MatMulOptions& options);
  MatMul() : MatMul(MatMulOptions{}) {}
  explicit MatMul(Shape weight_shape) : MatMul(MatMulOptions{std::move(weight_shape)}) {}

  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  size_t arity() const override { return weight_.defined() ? 1 : 2; }
  std::string describe() const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  Tensor& weight() { return weight_; }
  MatMulOptions options() const;

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
