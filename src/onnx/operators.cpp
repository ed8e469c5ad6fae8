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
    {"Acos", [](Context& c) { unary_fn(c, UnaryOp::acos); }},
    {"Acosh", [](Context& c) { unary_fn(c, UnaryOp::acosh); }},
    {"Add", [](Context& c) { binary_op(c, BinaryOp::add); }},
    {"And", [](Context& c) { binary_op(c, BinaryOp::logical_and); }},
    {"ArgMax", [](Context& c) { arg_reduce(c, true); }},
    {"ArgMin", [](Context& c) { arg_reduce(c, false); }},
    {"Asin", [](Context& c) { unary_fn(c, UnaryOp::asin); }},
    {"Asinh", [](Context& c) { unary_fn(c, UnaryOp::asinh); }},
    {"Atan", [](Context& c) { unary_fn(c, UnaryOp::atan); }},
    {"Atanh", [](Context& c) { unary_fn(c, UnaryOp::atanh); }},
    {"AveragePool", [](Context& c) { pool(c, true); }},
    {"BatchNormalization", &batch_norm},
    {"Cast", &cast},
    {"Ceil", [](Context& c) { unary_fn(c, UnaryOp::ceil); }},
    {"Celu", [](Context& c) { unary_fn(c, UnaryOp::celu, c.real("alpha", 1.f)); }},
    {"Clip", &clip},
    {"Concat", &concat},
    {"Constant", &constant},
    {"ConstantFill", &constant_fill},
    {"ConstantOfShape", &constant_of_shape},
    {"Conv", &conv},
    {"ConvTranspose", &conv_transpose},
    {"Cos", [](Context& c) { unary_fn(c, UnaryOp::cos); }},
    {"Cosh", [](Context& c) { unary_fn(c, UnaryOp::cosh); }},
    {"Div", [](Context& c) { binary_op(c, BinaryOp::div); }},
    {"Dropout", &dropout},
    {"Einsum", &einsum},
    {"Elu", [](Context& c) { unary(c, make<nn::ELU>(c.real("alpha", 1.f))); }},
    {"Equal", [](Context& c) { binary_op(c, BinaryOp::equal); }},
    {"Erf", [](Context& c) { unary_fn(c, UnaryOp::erf); }},
    {"Exp", [](Context& c) { unary_fn(c, UnaryOp::exp); }},
    {"Expand", &expand},
    {"Flatten", &flatten},
    {"Floor", [](Context& c) { unary_fn(c, UnaryOp::floor); }},
    {"GRU", &convert_gru},
    {"Gather", &gather},
    {"GatherND", &gather_nd},
    {"GatherElements", &gather_elements},
    {"Gelu", &gelu},
    {"Gemm", &gemm},
    {"GlobalAveragePool", [](Context& c) { global_pool(c, true); }},
    {"GlobalMaxPool", [](Context& c) { global_pool(c, false); }},
    {"Greater", [](Context& c) { binary_op(c, BinaryOp::greater); }},
    {"GreaterOrEqual", [](Context& c) { binary_op(c, BinaryOp::greater_equal); }},
    {"GroupNormalization", &group_norm},
    {"HardSigmoid",
     [](Context& c) {
       unary_fn(c, UnaryOp::hard_sigmoid, c.real("alpha", 0.2f), c.real("beta", 0.5f));
     }},
    {"HardSwish", [](Context& c) { unary_fn(c, UnaryOp::hard_swish); }},
    {"Identity", &identity},
    {"IsInf", &is_inf},
    {"IsNaN", [](Context& c) { unary_fn(c, UnaryOp::is_nan); }},
    {"LRN", &lrn},
    {"LSTM", &convert_lstm},
    {"LayerNormalization", &layer_norm},
    {"LeakyRelu", [](Context& c) { unary(c, make<nn::LeakyReLU>(c.real("alpha", 0.01f))); }},
    {"Less", [](Context& c) { binary_op(c, BinaryOp::less); }},
    {"LessOrEqual", [](Context& c) { binary_op(c, BinaryOp::less_equal); }},
    {"Log", [](Context& c) { unary_fn(c, UnaryOp::log); }},
    {"LogSoftmax", [](Context& c) { softmax(c, true); }},
    {"MatMul", &matmul},
    {"Max", [](Context& c) { variadic(c, BinaryOp::max, false); }},
    {"MaxPool", [](Context& c) { pool(c, false); }},
    {"Mean", [](Context& c) { variadic(c, BinaryOp::add, true); }},
    {"Min", [](Context& c) { variadic(c, BinaryOp::min, false); }},
    {"Mish", [](Context& c) { unary_fn(c, UnaryOp::mish); }},
    {"Mod", &mod},
    {"Mul", [](Context& c) { binary_op(c, BinaryOp::mul); }},
    {"Neg", [](Context& c) { unary_fn(c, UnaryOp::neg); }},
    {"Not", [](Context& c) { unary_fn(c, UnaryOp::logical_not); }},
    {"Or", [](Context& c) { binary_op(c, BinaryOp::logical_or); }},
    {"PRelu", &prelu},
    {"Pad", &pad},
    {"Pow", [](Context& c) { binary_op(c, BinaryOp::pow); }},
    {"Range", &range},
    {"Reciprocal", [](Context& c) { unary_fn(c, UnaryOp::reciprocal); }},
    {"ReduceL1", [](Context& c) { reduce_composed(c, UnaryOp::abs, false, std::nullopt); }},
    {"ReduceL2", [](Context& c) { reduce_composed(c, std::nullopt, true, UnaryOp::sqrt); }},
    {"ReduceLogSum", [](Context& c) { reduce_composed(c, std::nullopt, false, UnaryOp::log); }},
    {"ReduceLogSumExp", [](Context& c) { reduce_composed(c, UnaryOp::exp, false, UnaryOp::log); }},
    {"ReduceMax", [](Context& c) { reduce(c, nn::ReduceOp::max); }},
    {"ReduceMean", [](Context& c) { reduce(c, nn::ReduceOp::mean); }},
    {"ReduceMin", [](Context& c) { reduce(c, nn::ReduceOp::min); }},
    {"ReduceSum", [](Context& c) { reduce(c, nn::ReduceOp::sum); }},
    {"ReduceSumSquare", [](Context& c) { reduce_composed(c, std::nullopt, true, std::nullopt); }},
    {"Relu", [](Context& c) { unary(c, make<nn::ReLU>()); }},
    {"Reshape", &reshape},
    {"Resize", &resize},
    {"Round", [](Context& c) { unary_fn(c, UnaryOp::round); }},
    {"ScatterND", &scatter_nd},
    {"Selu",
     [](Context& c) {
       unary_fn(c, UnaryOp::selu, c.real("alpha", 1.67326319217681884765625f),
                c.real("gamma", 1.05070102214813232421875f));
     }},
    {"Shape", &shape},
    {"Shrink",
     [](Context& c) { unary_fn(c, UnaryOp::shrink, c.real("lambd", 0.5f), c.real("bias", 0.f)); }},
    {"Sigmoid", [](Context& c) { unary(c, make<nn::Sigmoid>()); }},
    {"Sign", [](Context& c) { unary_fn(c, UnaryOp::sign); }},
    {"Sin", [](Context& c) { unary_fn(c, UnaryOp::sin); }},
    {"Sinh", [](Context& c) { unary_fn(c, UnaryOp::sinh); }},
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
    {"Tan", [](Context& c) { unary_fn(c, UnaryOp::tan); }},
    {"Tanh", [](Context& c) { unary(c, make<nn::Tanh>()); }},
    {"ThresholdedRelu",
     [](Context& c) { unary_fn(c, UnaryOp::thresholded_relu, c.real("alpha", 1.f)); }},
    {"Tile", &tile},
    {"Transpose", &transpose},
    {"Trilu", &trilu},
    {"Unsqueeze", &unsqueeze},
    {"Upsample", &resize},
    {"Where", &where},
    {"Xor", [](Context& c) { binary_op(c, BinaryOp::logical_xor); }},
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

Converter find_fused_converter(const std::string& op_type) {
  if (op_type == "ScaledDotProductAttention") return &scaled_dot_product_attention;
  if (op_type == "MultiHeadAttention") return &multi_head_attention;
  return nullptr;
}

std::vector<std::string> converter_names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : converters()) out.push_back(name);
  return out;
}

}  // namespace bdl::onnx
