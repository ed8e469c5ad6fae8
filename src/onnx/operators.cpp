// The operators bdl imports, by name: each maps to its converter
// (src/onnx/converters/), which reads the node's attributes and inputs (by opset
// where the operator changed) and adds the bdl modules that compute it.
#include <map>

#include "bdl/nn/activations.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/context.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx {
namespace {

using namespace convert;  // NOLINT(google-build-using-namespace): the converters' own namespace

using nn::BinaryOp;
using nn::UnaryOp;

// Operator names and their converters: a table, kept sorted by name.
constexpr std::pair<const char*, Converter> kConverters[] = {
    {"Abs", [](Context& c) { unary_fn(c, UnaryOp::abs); }},
    {"Add", [](Context& c) { binary_op(c, BinaryOp::add); }},
    {"AveragePool", [](Context& c) { pool(c, true); }},
    {"BatchNormalization", &batch_norm},
    {"Cast", &cast},
    {"Ceil", [](Context& c) { unary_fn(c, UnaryOp::ceil); }},
    {"Clip", &clip},
    {"Concat", &concat},
    {"Constant", &constant},
    {"ConstantFill", &constant_fill},
    {"ConstantOfShape", &constant_of_shape},
    {"Conv", &conv},
    {"ConvTranspose", &conv_transpose},
    {"Cos", [](Context& c) { unary_fn(c, UnaryOp::cos); }},
    {"Div", [](Context& c) { binary_op(c, BinaryOp::div); }},
    {"Dropout", &dropout},
    {"Elu", [](Context& c) { unary(c, make<nn::ELU>(c.real("alpha", 1.f))); }},
    {"Erf", [](Context& c) { unary_fn(c, UnaryOp::erf); }},
    {"Exp", [](Context& c) { unary_fn(c, UnaryOp::exp); }},
    {"Expand", &expand},
    {"Flatten", &flatten},
    {"Floor", [](Context& c) { unary_fn(c, UnaryOp::floor); }},
    {"Gather", &gather},
    {"Gemm", &gemm},
    {"GlobalAveragePool", [](Context& c) { global_pool(c, true); }},
    {"GlobalMaxPool", [](Context& c) { global_pool(c, false); }},
    {"GRU", &convert_gru},
    {"HardSigmoid",
     [](Context& c) {
       unary_fn(c, UnaryOp::hard_sigmoid, c.real("alpha", 0.2f), c.real("beta", 0.5f));
     }},
    {"Identity", &identity},
    {"LayerNormalization", &layer_norm},
    {"LeakyRelu", [](Context& c) { unary(c, make<nn::LeakyReLU>(c.real("alpha", 0.01f))); }},
    {"Log", [](Context& c) { unary_fn(c, UnaryOp::log); }},
    {"LogSoftmax", [](Context& c) { softmax(c, true); }},
    {"LRN", &lrn},
    {"LSTM", &convert_lstm},
    {"MatMul", &matmul},
    {"Max", [](Context& c) { variadic(c, BinaryOp::max, false); }},
    {"MaxPool", [](Context& c) { pool(c, false); }},
    {"Mean", [](Context& c) { variadic(c, BinaryOp::add, true); }},
    {"Min", [](Context& c) { variadic(c, BinaryOp::min, false); }},
    {"Mul", [](Context& c) { binary_op(c, BinaryOp::mul); }},
    {"Neg", [](Context& c) { unary_fn(c, UnaryOp::neg); }},
    {"Pad", &pad},
    {"Pow", [](Context& c) { binary_op(c, BinaryOp::pow); }},
    {"PRelu", &prelu},
    {"Reciprocal", [](Context& c) { unary_fn(c, UnaryOp::reciprocal); }},
    {"ReduceL1", [](Context& c) { reduce_composed(c, UnaryOp::abs, false, std::nullopt); }},
    {"ReduceL2", [](Context& c) { reduce_composed(c, std::nullopt, true, UnaryOp::sqrt); }},
    {"ReduceLogSum", [](Context& c) { reduce_composed(c, std::nullopt, false, UnaryOp::log); }},
    {"ReduceLogSumExp", [](Context& c) { reduce_composed(c, UnaryOp::exp, false, UnaryOp::log); }},
    {"ReduceMax", [](Context& c) { reduce(c, nn::ReduceOp::max); }},
    {"ReduceMean", [](Context& c) { reduce(c, nn::ReduceOp::mean); }},
    {"ReduceMin", [](Context& c) { reduce(c, nn::ReduceOp::min); }},
    {"ReduceSumSquare", [](Context& c) { reduce_composed(c, std::nullopt, true, std::nullopt); }},
    {"ReduceSum", [](Context& c) { reduce(c, nn::ReduceOp::sum); }},
    {"Relu", [](Context& c) { unary(c, make<nn::ReLU>()); }},
    {"Reshape", &reshape},
    {"Resize", &resize},
    {"Selu",
     [](Context& c) {
       unary_fn(c, UnaryOp::selu, c.real("alpha", 1.67326319217681884765625f),
                c.real("gamma", 1.05070102214813232421875f));
     }},
    {"Shape", &shape},
    {"Sigmoid", [](Context& c) { unary(c, make<nn::Sigmoid>()); }},
    {"Sin", [](Context& c) { unary_fn(c, UnaryOp::sin); }},
    {"Size", &size},
    {"Slice", &slice},
    {"Softmax", [](Context& c) { softmax(c, false); }},
    {"Softplus", [](Context& c) { unary(c, make<nn::SoftPlus>(1.f, 20.f)); }},
    {"Softsign", [](Context& c) { unary_fn(c, UnaryOp::softsign); }},
    {"Split", &split},
    {"Sqrt", [](Context& c) { unary_fn(c, UnaryOp::sqrt); }},
    {"Squeeze", &squeeze},
    {"Sub", [](Context& c) { binary_op(c, BinaryOp::sub); }},
    {"Sum", [](Context& c) { variadic(c, BinaryOp::add, false); }},
    {"Tanh", [](Context& c) { unary(c, make<nn::Tanh>()); }},
    {"Transpose", &transpose},
    {"Unsqueeze", &unsqueeze},
    {"Upsample", &resize},
};

const std::map<std::string, Converter>& converters() {
  static const std::map<std::string, Converter> table(std::begin(kConverters),
                                                      std::end(kConverters));
  return table;
}

}  // namespace

Converter find_converter(const std::string& op_type) {
  const auto it = converters().find(op_type);
  return it == converters().end() ? nullptr : it->second;
}

std::vector<std::string> converter_names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : converters()) out.push_back(name);
  return out;
}

}  // namespace bdl::onnx
