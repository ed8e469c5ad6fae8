#pragma once

#include <memory>
#include <optional>
#include <string>

#include "bdl/nn/layer.h"
#include "bdl/nn/multi_input.h"

namespace bdl::nn {

enum class BinaryOp { add, sub, mul, div, pow, max, min };
constexpr EnumNames<BinaryOp, 7> enum_names(BinaryOp) {
  return {{{BinaryOp::add, "add"},
           {BinaryOp::sub, "sub"},
           {BinaryOp::mul, "mul"},
           {BinaryOp::div, "div"},
           {BinaryOp::pow, "pow"},
           {BinaryOp::max, "max"},
           {BinaryOp::min, "min"}}};
}

struct BinaryOptions {
  BinaryOp op = BinaryOp::add;
  // With a constant operand: its shape, whether it comes first (constant op
  // input) and whether it is trained.
  std::optional<Shape> constant_shape = {};
  bool constant_first = false;
  bool trainable = true;
  static void fields(auto& o, auto& field) {
    field("op", o.op);
    field("constant_shape", o.constant_shape);
    field("constant_first", o.constant_first, Presence::may_be_absent);
    field("trainable", o.trainable, Presence::may_be_absent);
  }
};

// An element-wise arithmetic operation with NumPy (ONNX) broadcasting, as torch's
// a + b, a - b, a * b, a / b, a ** b, maximum and minimum. Either of two inputs,
// or of one input and a constant tensor the layer owns (a bias, a scale): the
// constant is a trainable parameter unless made fixed (ONNX initializers versus
// Constant nodes), and its gradient is summed over the broadcast dimensions.
class Binary : public Layer<Binary, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "Binary";
  explicit Binary(const BinaryOptions& o);
  // Two inputs.
  explicit Binary(BinaryOp op);
  // One input and a constant: input op constant, or constant op input when
  // constant_first.
  Binary(BinaryOp op, Shape constant_shape, bool constant_first, bool trainable);

  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  size_t arity() const override { return constant_.defined() ? 1 : 2; }
  std::string describe() const override;
  void own_parameters(std::vector<Parameter>& out) override;
  void own_buffers(std::vector<Buffer>& out) override;

  BinaryOp op() const { return op_; }
  Tensor& constant() { return constant_; }
  bool has_constant() const { return constant_.defined(); }
  BinaryOptions options() const;

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
constexpr EnumNames<UnaryOp, 14> enum_names(UnaryOp) {
  return {{{UnaryOp::abs, "abs"},
           {UnaryOp::neg, "neg"},
           {UnaryOp::exp, "exp"},
           {UnaryOp::log, "log"},
           {UnaryOp::sqrt, "sqrt"},
           {UnaryOp::reciprocal, "reciprocal"},
           {UnaryOp::sin, "sin"},
           {UnaryOp::cos, "cos"},
           {UnaryOp::floor, "floor"},
           {UnaryOp::ceil, "ceil"},
           {UnaryOp::erf, "erf"},
           {UnaryOp::softsign, "softsign"},
           {UnaryOp::selu, "selu"},
           {UnaryOp::hard_sigmoid, "hard_sigmoid"}}};
}

struct UnaryOptions {
  UnaryOp op = UnaryOp::abs;
  float alpha = 0.f;  // Selu's alpha, HardSigmoid's alpha
  float beta = 0.f;   // Selu's gamma, HardSigmoid's beta
  static void fields(auto& o, auto& field) {
    field("op", o.op);
    field("alpha", o.alpha, Presence::may_be_absent);
    field("beta", o.beta, Presence::may_be_absent);
  }
};

// An element-wise function without parameters that oneDNN's eltwise kernels do
// not cover (ONNX Abs, Neg, Exp, Log, Sqrt, Reciprocal, Sin, Cos, Floor, Ceil,
// Erf, Softsign, Selu, HardSigmoid). alpha and beta are Selu's and HardSigmoid's
// constants. Floor and Ceil have zero gradient almost everywhere.
class Unary : public Layer<Unary> {
 public:
  static constexpr std::string_view kType = "Unary";
  explicit Unary(UnaryOptions o) : Unary(o.op, o.alpha, o.beta) {}
  explicit Unary(UnaryOp op, float alpha = 0.f, float beta = 0.f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }
  std::string describe() const override;
  UnaryOptions options() const { return {op_, alpha_, beta_}; }

 private:
  UnaryOp op_;
  float alpha_, beta_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
