#pragma once

#include <memory>
#include <optional>
#include <string>

#include "bdl/nn/layer.h"
#include "bdl/nn/multi_input.h"

namespace bdl::nn {

// Arithmetic; comparisons and logic give 1 for true and 0 for false (ONNX's
// booleans as bdl's float32, a logical operand being true when nonzero), with a
// zero gradient. mod takes the divisor's sign (Python's %, ONNX Mod), fmod the
// dividend's (C's fmod, ONNX Mod with fmod=1).
enum class BinaryOp {
  add,
  sub,
  mul,
  div,
  pow,
  max,
  min,
  equal,
  less,
  less_equal,
  greater,
  greater_equal,
  logical_and,
  logical_or,
  logical_xor,
  mod,
  fmod
};
constexpr EnumNames<BinaryOp, 17> enum_names(BinaryOp) {
  return {{{BinaryOp::add, "add"},
           {BinaryOp::sub, "sub"},
           {BinaryOp::mul, "mul"},
           {BinaryOp::div, "div"},
           {BinaryOp::pow, "pow"},
           {BinaryOp::max, "max"},
           {BinaryOp::min, "min"},
           {BinaryOp::equal, "equal"},
           {BinaryOp::less, "less"},
           {BinaryOp::less_equal, "less_equal"},
           {BinaryOp::greater, "greater"},
           {BinaryOp::greater_equal, "greater_equal"},
           {BinaryOp::logical_and, "and"},
           {BinaryOp::logical_or, "or"},
           {BinaryOp::logical_xor, "xor"},
           {BinaryOp::mod, "mod"},
           {BinaryOp::fmod, "fmod"}}};
}
// Whether the op gives 0 or 1 (a comparison or logic).
constexpr bool is_predicate(BinaryOp op) {
  return op >= BinaryOp::equal && op <= BinaryOp::logical_xor;
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
  hard_sigmoid,
  logical_not,
  sign,
  round,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  hard_swish,
  mish,
  is_nan,
  is_inf,
  thresholded_relu,
  shrink,
  celu
};
constexpr EnumNames<UnaryOp, 33> enum_names(UnaryOp) {
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
           {UnaryOp::hard_sigmoid, "hard_sigmoid"},
           {UnaryOp::logical_not, "not"},
           {UnaryOp::sign, "sign"},
           {UnaryOp::round, "round"},
           {UnaryOp::tan, "tan"},
           {UnaryOp::asin, "asin"},
           {UnaryOp::acos, "acos"},
           {UnaryOp::atan, "atan"},
           {UnaryOp::sinh, "sinh"},
           {UnaryOp::cosh, "cosh"},
           {UnaryOp::asinh, "asinh"},
           {UnaryOp::acosh, "acosh"},
           {UnaryOp::atanh, "atanh"},
           {UnaryOp::hard_swish, "hard_swish"},
           {UnaryOp::mish, "mish"},
           {UnaryOp::is_nan, "is_nan"},
           {UnaryOp::is_inf, "is_inf"},
           {UnaryOp::thresholded_relu, "thresholded_relu"},
           {UnaryOp::shrink, "shrink"},
           {UnaryOp::celu, "celu"}}};
}

struct UnaryOptions {
  UnaryOp op = UnaryOp::abs;
  // Selu's alpha and gamma, HardSigmoid's alpha and beta, Shrink's lambda and
  // bias, ThresholdedRelu's and Celu's alpha (as alpha).
  float alpha = 0.f;
  float beta = 0.f;
  static void fields(auto& o, auto& field) {
    field("op", o.op);
    field("alpha", o.alpha, Presence::may_be_absent);
    field("beta", o.beta, Presence::may_be_absent);
  }
};

// An element-wise function without parameters that oneDNN's eltwise kernels do
// not cover (ONNX Abs, Neg, Exp, Log, Sqrt, Reciprocal, the trigonometric and
// hyperbolic functions and their inverses, Floor, Ceil, Round (half to even),
// Sign, Erf, Softsign, Selu, HardSigmoid, HardSwish, Mish, ThresholdedRelu, Shrink, Celu; Not,
// IsNaN and IsInf give 1 or 0). alpha and beta are the functions' constants (UnaryOptions). Floor,
// Ceil, Round, Sign and the predicates have zero gradient almost everywhere.
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
