// Reshapes, element-wise arithmetic, matrix products and the tensor layers
// imported graphs are made of.
#include "bdl/nn/elementwise.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
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

// ONNX's operator of each BinaryOp and UnaryOp, in the enums' order.
constexpr const char* kBinaryOps[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
constexpr const char* kUnaryOps[] = {"Abs",        "Neg",      "Exp",  "Log",        "Sqrt",
                                     "Reciprocal", "Sin",      "Cos",  "Floor",      "Ceil",
                                     "Erf",        "Softsign", "Selu", "HardSigmoid"};
static_assert(std::size(kBinaryOps) == nn::enum_names(nn::BinaryOp{}).size());
static_assert(std::size(kUnaryOps) == nn::enum_names(nn::UnaryOp{}).size());

std::string binary(Emitter& e, nn::Binary& m, const Inputs& in) {
  const char* op = kBinaryOps[static_cast<int>(m.op())];
  const nn::BinaryOptions o = m.options();
  if (!o.constant_shape) return e.op(op, in.names, in.path);
  const std::string k = e.initializer(tensor_of(m, "constant"), in.path + ".constant");
  return o.constant_first ? e.op(op, {k, in.x()}, in.path) : e.op(op, {in.x(), k}, in.path);
}

std::string unary(Emitter& e, nn::Unary& m, const Inputs& in) {
  const nn::UnaryOptions o = m.options();
  std::string out;
  auto& n = e.node(kUnaryOps[static_cast<int>(o.op)], {in.x()}, in.path, &out);
  if (o.op == nn::UnaryOp::selu) {
    Emitter::attr(n, "alpha", o.alpha);
    Emitter::attr(n, "gamma", o.beta);
  } else if (o.op == nn::UnaryOp::hard_sigmoid) {
    Emitter::attr(n, "alpha", o.alpha);
    Emitter::attr(n, "beta", o.beta);
  }
  return out;
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

}  // namespace

void add_tensor_exporters(ExporterTable& table) {
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
