#pragma once

#include <memory>
#include <optional>
#include <string>

#include "bdl/nn/multi_input.h"

namespace bdl::nn {

enum class BinaryOp { add, sub, mul, div, pow, max, min };
std::string binary_op_name(BinaryOp op);
BinaryOp binary_op_from_name(const std::string& name, const std::string& owner);

// An element-wise arithmetic operation with NumPy (ONNX) broadcasting, as torch's
// a + b, a - b, a * b, a / b, a ** b, maximum and minimum. Either of two inputs,
// or of one input and a constant tensor the layer owns (a bias, a scale): the
// constant is a trainable parameter unless made fixed (ONNX initializers versus
// Constant nodes), and its gradient is summed over the broadcast dimensions.
class Binary : public MultiInputModule {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  // Two inputs.
  explicit Binary(BinaryOp op);
  // One input and a constant: input op constant, or constant op input when
  // constant_first.
  Binary(BinaryOp op, Shape constant_shape, bool constant_first, bool trainable);

  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  size_t arity() const override { return constant_.defined() ? 1 : 2; }
  std::string type() const override { return "Binary"; }
  std::string describe() const override;
  void own_parameters(std::vector<Parameter>& out) override;
  void own_buffers(std::vector<Buffer>& out) override;

  BinaryOp op() const { return op_; }
  Tensor& constant() { return constant_; }
  bool has_constant() const { return constant_.defined(); }

 private:
  BinaryOp op_;
  Tensor constant_, grad_constant_;
  bool constant_first_ = false;
  bool trainable_ = false;
  Tensor dense_[2], dense_grad_;
};

enum class UnaryOp {
  abs,
  neg,
  exp,
  log,
  sqrt,
  reciprocal,
  sin,
  cos,
  floor,
  ceil,
  erf,
  softsign,
  selu,
  hard_sigmoid
};

// An element-wise function without parameters that oneDNN's eltwise kernels do
// not cover (ONNX Abs, Neg, Exp, Log, Sqrt, Reciprocal, Sin, Cos, Floor, Ceil,
// Erf, Softsign, Selu, HardSigmoid). alpha and beta are Selu's and HardSigmoid's
// constants. Floor and Ceil have zero gradient almost everywhere.
class Unary : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit Unary(UnaryOp op, float alpha = 0.f, float beta = 0.f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }
  std::string type() const override { return "Unary"; }
  std::string describe() const override;
  static std::optional<UnaryOp> from_name(const std::string& name);

 private:
  UnaryOp op_;
  float alpha_, beta_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
