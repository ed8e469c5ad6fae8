// Reshapes, element-wise arithmetic, matrix products and the tensor layers
// imported graphs are made of.
#include "bdl/nn/elementwise.h"
#include "bdl/nn/expand.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/select.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

using nn::fields::enum_name;

// The batch dimension is kept (0 in ONNX's Reshape).
std::string reshape(Emitter& e, nn::Reshape& m, const Inputs& in) {
  std::vector<int64_t> target{0};
  for (int64_t s : m.options().shape) target.push_back(s);
  return e.op("Reshape", {in.x(), e.ints(target, in.path + ".shape")}, in.path);
}

std::string flatten(Emitter& e, nn::Flatten&, const Inputs& in) {
  std::string out;
  Emitter::attr(e.node("Flatten", {in.x()}, in.path, &out), "axis", int64_t{1});
  return out;
}

std::string view(Emitter& e, nn::View& m, const Inputs& in) {
  return e.op("Reshape", {in.x(), e.ints(m.options().shape, in.path + ".shape")}, in.path);
}

std::string add_inputs(Emitter& e, nn::Add&, const Inputs& in) {
  std::string sum = in.names.at(0);
  for (size_t i = 1; i < in.names.size(); ++i) sum = e.op("Add", {sum, in.names[i]}, in.path);
  return sum;
}

std::string join(Emitter& e, nn::JoinTable& m, const Inputs& in) {
  std::string out;
  Emitter::attr(e.node("Concat", in.names, in.path, &out), "axis", m.dim());
  return out;
}

// ONNX's operator of each BinaryOp and UnaryOp, in the enums' order (Mod for
// both mod and fmod; the composed unary ones, which opset 13 lacks, are empty).
constexpr const char* kBinaryOps[] = {
    "Add", "Sub",   "Mul",  "Div",         "Pow",     "Max",
    "Min", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
    "And", "Or",    "Xor",  "Mod",         "Mod"};
constexpr const char* kUnaryOps[] = {"Abs",
                                     "Neg",
                                     "Exp",
                                     "Log",
                                     "Sqrt",
                                     "Reciprocal",
                                     "Sin",
                                     "Cos",
                                     "Floor",
                                     "Ceil",
                                     "Erf",
                                     "Softsign",
                                     "Selu",
                                     "HardSigmoid",
                                     "Not",
                                     "Sign",
                                     "Round",
                                     "Tan",
                                     "Asin",
                                     "Acos",
                                     "Atan",
                                     "Sinh",
                                     "Cosh",
                                     "Asinh",
                                     "Acosh",
                                     "Atanh",
                                     "",
                                     "",
                                     "IsNaN",
                                     "IsInf",
                                     "ThresholdedRelu",
                                     "Shrink",
                                     "Celu"};
static_assert(std::size(kBinaryOps) == nn::enum_names(nn::BinaryOp{}).size());
static_assert(std::size(kUnaryOps) == nn::enum_names(nn::UnaryOp{}).size());

std::string cast(Emitter& e, const std::string& x, ::onnx::TensorProto::DataType to,
                 const std::string& path) {
  std::string out;
  Emitter::attr(e.node("Cast", {x}, path, &out), "to", static_cast<int64_t>(to));
  return out;
}

// bdl's 0/1 results are float: ONNX's comparisons and logic give booleans,
// cast back to float, and its logic reads booleans, cast from the operands.
std::string binary(Emitter& e, nn::Binary& m, const Inputs& in) {
  const char* op = kBinaryOps[static_cast<int>(m.op())];
  const nn::BinaryOptions o = m.options();
  std::vector<std::string> args = in.names;
  if (o.constant_shape) {
    const std::string k = e.initializer(tensor_of(m, "constant"), in.path + ".constant");
    args = o.constant_first ? std::vector{k, in.x()} : std::vector{in.x(), k};
  }
  const bool logic = m.op() >= nn::BinaryOp::logical_and && m.op() <= nn::BinaryOp::logical_xor;
  if (logic) {
    for (auto& a : args) a = cast(e, a, ::onnx::TensorProto::BOOL, in.path);
  }
  std::string out;
  auto& n = e.node(op, args, in.path, &out);
  if (m.op() == nn::BinaryOp::fmod) Emitter::attr(n, "fmod", int64_t{1});
  return nn::is_predicate(m.op()) ? cast(e, out, ::onnx::TensorProto::FLOAT, in.path) : out;
}

// HardSwish and Mish have no opset-13 operator: their definitions.
std::string composed_unary(Emitter& e, nn::UnaryOp op, const Inputs& in) {
  const std::string& x = in.x();
  const std::string& p = in.path;
  if (op == nn::UnaryOp::hard_swish) {
    std::string gate;
    auto& n = e.node("HardSigmoid", {x}, p, &gate);
    Emitter::attr(n, "alpha", 1.f / 6.f);
    Emitter::attr(n, "beta", 0.5f);
    return e.op("Mul", {x, gate}, p);
  }
  // mish: x * tanh(softplus(x)).
  return e.op("Mul", {x, e.op("Tanh", {e.op("Softplus", {x}, p)}, p)}, p);
}

std::string unary(Emitter& e, nn::Unary& m, const Inputs& in) {
  const nn::UnaryOptions o = m.options();
  const char* op = kUnaryOps[static_cast<int>(o.op)];
  if (*op == '\0') return composed_unary(e, o.op, in);
  const bool predicate = o.op == nn::UnaryOp::logical_not || o.op == nn::UnaryOp::is_nan ||
                         o.op == nn::UnaryOp::is_inf;
  std::string x = in.x();
  if (o.op == nn::UnaryOp::logical_not) x = cast(e, x, ::onnx::TensorProto::BOOL, in.path);
  std::string out;
  auto& n = e.node(op, {x}, in.path, &out);
  if (o.op == nn::UnaryOp::selu) {
    Emitter::attr(n, "alpha", o.alpha);
    Emitter::attr(n, "gamma", o.beta);
  } else if (o.op == nn::UnaryOp::hard_sigmoid) {
    Emitter::attr(n, "alpha", o.alpha);
    Emitter::attr(n, "beta", o.beta);
  } else if (o.op == nn::UnaryOp::shrink) {
    Emitter::attr(n, "lambd", o.alpha);
    Emitter::attr(n, "bias", o.beta);
  } else if (o.op == nn::UnaryOp::thresholded_relu || o.op == nn::UnaryOp::celu) {
    Emitter::attr(n, "alpha", o.alpha);
  }
  return predicate ? cast(e, out, ::onnx::TensorProto::FLOAT, in.path) : out;
}

std::string matmul(Emitter& e, nn::MatMul& m, const Inputs& in) {
  if (!m.options().weight_shape) return e.op("MatMul", in.names, in.path);
  return e.op("MatMul", {in.x(), e.initializer(tensor_of(m, "weight"), in.path + ".weight")},
              in.path);
}

std::string transpose(Emitter& e, nn::Transpose& m, const Inputs& in) {
  std::string out;
  Emitter::attr(e.node("Transpose", {in.x()}, in.path, &out), "perm", m.options().perm);
  return out;
}

std::string slice(Emitter& e, nn::Slice& m, const Inputs& in) {
  const nn::SliceOptions o = m.options();
  const std::string& p = in.path;
  return e.op("Slice",
              {in.x(), e.ints(o.starts, p + ".starts"), e.ints(o.ends, p + ".ends"),
               e.ints(o.axes, p + ".axes"), e.ints(o.steps, p + ".steps")},
              p);
}

std::string pad(Emitter& e, nn::Pad& m, const Inputs& in) {
  const nn::PadOptions o = m.options();
  std::string out;
  auto& n = e.node(
      "Pad", {in.x(), e.ints(o.pads, in.path + ".pads"), e.scalar(o.value, in.path + ".value")},
      in.path, &out);
  Emitter::attr(n, "mode", std::string(enum_name(o.mode)));
  return out;
}

std::string gather(Emitter& e, nn::Gather& m, const Inputs& in) {
  const nn::GatherOptions o = m.options();
  const Tensor indices = Tensor::from_vector(std::span<const int64_t>(o.indices), o.indices_shape);
  std::string out;
  Emitter::attr(
      e.node("Gather", {in.x(), e.initializer(indices, in.path + ".indices")}, in.path, &out),
      "axis", o.axis);
  return out;
}

// ReduceSum takes its axes as an input from opset 13, the others as an attribute.
std::string reduce(Emitter& e, nn::Reduce& m, const Inputs& in) {
  const nn::ReduceOptions o = m.options();
  const int64_t keep = o.keep_dims ? 1 : 0;
  std::string out;
  if (o.op == nn::ReduceOp::sum) {
    std::vector<std::string> args{in.x()};
    if (!o.axes.empty()) args.push_back(e.ints(o.axes, in.path + ".axes"));
    Emitter::attr(e.node("ReduceSum", args, in.path, &out), "keepdims", keep);
    return out;
  }
  const char* op = o.op == nn::ReduceOp::mean  ? "ReduceMean"
                   : o.op == nn::ReduceOp::max ? "ReduceMax"
                                               : "ReduceMin";
  auto& n = e.node(op, {in.x()}, in.path, &out);
  if (!o.axes.empty()) Emitter::attr(n, "axes", o.axes);
  Emitter::attr(n, "keepdims", keep);
  return out;
}

// The condition is cast to bool; owned operands become initializers.
std::string where(Emitter& e, nn::Where& m, const Inputs& in) {
  static constexpr const char* kNames[3] = {"condition", "x", "y"};
  std::vector<std::string> args;
  args.reserve(3);
  size_t next = 0;
  for (int k = 0; k < 3; ++k) {
    args.push_back(m.owned(k).defined()
                       ? e.initializer(m.owned(k).contiguous(), in.path + "." + kNames[k])
                       : in.names.at(next++));
  }
  args[0] = cast(e, args[0], ::onnx::TensorProto::BOOL, in.path);
  return e.op("Where", args, in.path);
}

// Trilu is opset 14: Where with the triangle as a fixed mask on the last two
// dimensions, which keeps infinities where Mul by 0 and 1 would not.
std::string trilu(Emitter& e, nn::Trilu& m, const Inputs& in) {
  const Shape& s = in.shape();
  BDL_CHECK(s.size() >= 2, in.path, ": Trilu of a ", shape_str(s), " input");
  const int64_t rows = s[s.size() - 2], cols = s.back();
  std::vector<int64_t> mask(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t d = c - r;
      mask[static_cast<size_t>(r * cols + c)] =
          m.options().upper ? d >= m.options().k : d <= m.options().k;
    }
  }
  auto cond = Tensor::from_vector(std::span<const int64_t>(mask), {rows, cols});
  const std::string mask_name =
      cast(e, e.initializer(cond, in.path + ".mask"), ::onnx::TensorProto::BOOL, in.path);
  return e.op("Where", {mask_name, in.x(), e.scalar(0.f, in.path + ".zero")}, in.path);
}

std::string gather_elements(Emitter& e, nn::GatherElements& m, const Inputs& in) {
  const auto& o = m.options();
  const Tensor indices = Tensor::from_vector(std::span<const int64_t>(o.indices), o.indices_shape);
  std::string out;
  Emitter::attr(e.node("GatherElements", {in.x(), e.initializer(indices, in.path + ".indices")},
                       in.path, &out),
                "axis", o.axis);
  return out;
}

// ArgMax and ArgMin give int64; bdl's indices are float.
std::string arg_reduce(Emitter& e, nn::ArgReduce& m, const Inputs& in) {
  const auto& o = m.options();
  std::string out;
  auto& n = e.node(o.op == nn::ArgOp::max ? "ArgMax" : "ArgMin", {in.x()}, in.path, &out);
  Emitter::attr(n, "axis", o.axis);
  Emitter::attr(n, "keepdims", int64_t{o.keep_dims ? 1 : 0});
  Emitter::attr(n, "select_last_index", int64_t{o.select_last ? 1 : 0});
  return cast(e, out, ::onnx::TensorProto::FLOAT, in.path);
}

// The target shape as value_shape with the input's batch size at axis.
std::string expand_to_batch(Emitter& e, nn::ExpandToBatch& m, const Inputs& in) {
  const auto& o = m.options();
  const std::string& p = in.path;
  std::string batch;
  Emitter::attr(e.node("Gather", {e.op("Shape", {in.x()}, p), e.ints({o.input_axis}, p + ".axis")},
                       p, &batch),
                "axis", int64_t{0});
  std::vector<std::string> parts;
  const auto a = static_cast<size_t>(o.axis);
  if (a > 0)
    parts.push_back(
        e.ints(Shape(o.value_shape.begin(), o.value_shape.begin() + o.axis), p + ".before"));
  parts.push_back(batch);
  if (a + 1 < o.value_shape.size()) {
    parts.push_back(
        e.ints(Shape(o.value_shape.begin() + o.axis + 1, o.value_shape.end()), p + ".after"));
  }
  std::string shape;
  Emitter::attr(e.node("Concat", parts, p, &shape), "axis", int64_t{0});
  return e.op("Expand", {e.initializer(tensor_of(m, "value"), p + ".value"), shape}, p);
}

}  // namespace

void add_tensor_exporters(ExporterTable& table) {
  add<nn::ExpandToBatch>(table, expand_to_batch);
  add<nn::Where>(table, where);
  add<nn::Trilu>(table, trilu);
  add<nn::GatherElements>(table, gather_elements);
  add<nn::ArgReduce>(table, arg_reduce);
  add<nn::Reshape>(table, reshape);
  add<nn::Flatten>(table, flatten);
  add<nn::View>(table, view);
  add<nn::Add>(table, add_inputs);
  add<nn::JoinTable>(table, join);
  add<nn::Binary>(table, binary);
  add<nn::Unary>(table, unary);
  add<nn::MatMul>(table, matmul);
  add<nn::Transpose>(table, transpose);
  add<nn::Slice>(table, slice);
  add<nn::Pad>(table, pad);
  add<nn::Gather>(table, gather);
  add<nn::Reduce>(table, reduce);
}

}  // namespace bdl::onnx::exporting
