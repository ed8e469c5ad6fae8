#pragma once

// One or more instances of every registered layer type, each with an input it
// takes: what the registry walk (tests/onnx/layer_registry_test.cpp) round-trips
// through the model file and ONNX. A layer added to the registry without an
// example here fails that test, naming the type.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/activations.h"
#include "bdl/nn/attention.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/concat.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/expand.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/select.h"
#include "bdl/nn/sequential.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/softmax.h"
#include "bdl/nn/time_distributed.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"

namespace bdl::testing {

struct LayerExample {
  std::string name;
  std::function<std::unique_ptr<nn::Module>()> make;
  Shape input;  // batch first
  // Token ids in [0, vocabulary) instead of values in [-1, 1].
  int64_t vocabulary = 0;
  // Why ONNX export refuses it (a substring of the error, which also names the
  // type); empty when it exports.
  std::string refused_because = {};
};

// A graph of one input feeding both operands of a two-input layer.
inline std::unique_ptr<nn::Module> on_itself(std::unique_ptr<nn::Module> layer) {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input("x");
  g->add(std::move(layer), {x, x}, "layer");
  return g;
}

template <typename L, typename... Args>
std::function<std::unique_ptr<nn::Module>()> make_layer(Args... args) {
  return [=] { return std::make_unique<L>(args...); };
}

inline std::vector<LayerExample> layer_examples() {
  using namespace nn;
  std::vector<LayerExample> out;
  auto add = [&](std::string name, std::function<std::unique_ptr<Module>()> make, Shape input) {
    out.push_back({std::move(name), std::move(make), std::move(input)});
    return &out.back();
  };
  add("add", [] { return on_itself(std::make_unique<Add>()); }, {2, 3, 4});
  add("avg_pool2d",
      make_layer<AvgPool2d>(Pool2dOptions{.kernel = {3, 2},
                                          .stride = Size2{2, 1},
                                          .padding = {1, 1},
                                          .ceil_mode = true,
                                          .count_include_pad = false}),
      {2, 3, 7, 6});
  add("batch_norm",
      make_layer<BatchNorm>(
          BatchNormOptions{.num_features = 5, .eps = 1e-3f, .momentum = 0.2f, .affine = false}),
      {2, 5, 3, 3});
  add("batch_norm_without_running_stats",
      make_layer<BatchNorm>(BatchNormOptions{.num_features = 3, .track_running_stats = false}),
      {2, 3, 2, 2})
      ->refused_because = "without running statistics";
  add("binary_div", [] { return on_itself(std::make_unique<Binary>(BinaryOp::div)); }, {2, 3});
  add("binary_pow_constant_first", make_layer<Binary>(BinaryOp::pow, Shape{3, 1}, true, true),
      {2, 3, 4});
  add("binary_max_fixed_constant", make_layer<Binary>(BinaryOp::max, Shape{2}, false, false),
      {3, 2});
  add("concat",
      [] {
        auto concat = std::make_unique<Concat>(1);
        concat->add(std::make_unique<ReLU>(), "a");
        concat->add(std::make_unique<Tanh>(), "b");
        return concat;
      },
      {2, 3, 4});
  add("conv2d",
      make_layer<Conv2d>(Conv2dOptions{.in_channels = 4,
                                       .out_channels = 6,
                                       .kernel = {3, 1},
                                       .stride = {2, 1},
                                       .padding = {1, 0},
                                       .padding_end = Size2{0, 1},
                                       .dilation = {1, 2},
                                       .groups = 2,
                                       .bias = false}),
      {2, 4, 7, 6});
  add("conv_transpose2d",
      make_layer<ConvTranspose2d>(ConvTranspose2dOptions{.in_channels = 4,
                                                         .out_channels = 2,
                                                         .kernel = 3,
                                                         .stride = 2,
                                                         .padding = 1,
                                                         .padding_end = Size2{0, 2},
                                                         .output_padding = 1,
                                                         .groups = 2}),
      {2, 4, 5, 5});
  add("dropout", make_layer<Dropout>(0.3f), {2, 5});
  add("elu", make_layer<ELU>(0.7f), {2, 5});
  add("embedding", make_layer<Embedding>(EmbeddingOptions{11, 4, 2}), {2, 5})->vocabulary = 11;
  add("flatten", make_layer<Flatten>(), {2, 3, 4});
  add("gather", make_layer<Gather>(1, std::vector<int64_t>{0, -1, 2}, Shape{3}), {2, 4});
  add("gelu", make_layer<GELU>(false), {2, 5});
  add("gelu_tanh", make_layer<GELU>(true), {2, 5});
  add("global_avg_pool2d", make_layer<GlobalAvgPool2d>(), {2, 3, 4, 5});
  add("global_max_pool2d", make_layer<GlobalMaxPool2d>(), {2, 3, 4, 5});
  add("graph",
      [] {
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        const auto fc = g->add(std::make_unique<Linear>(3, 3), {x}, "fc");
        g->add(std::make_unique<Add>(), {fc, x}, "sum");
        return g;
      },
      {2, 3});
  add("gru", make_layer<GRU>(RecurrentOptions{3, 5, true, false}), {2, 4, 3});
  add("gru_reset_before", make_layer<GRU>(RecurrentOptions{3, 4, false, true}, false), {2, 3, 3});
  add("hard_tanh", make_layer<HardTanh>(-0.5f, 0.25f), {2, 5});
  add("identity", make_layer<Identity>(), {2, 5});
  add("join_table", [] { return on_itself(std::make_unique<JoinTable>(2)); }, {2, 3, 4});
  add("leaky_relu", make_layer<LeakyReLU>(0.2f), {2, 5});
  add("linear", make_layer<Linear>(LinearOptions{5, 2, false}), {3, 5});
  add("linear_3d", make_layer<Linear>(LinearOptions{5, 2, true}), {2, 3, 5});
  add("log_softmax", make_layer<LogSoftMax>(1), {2, 5});
  add("lrn", make_layer<LRN>(LrnOptions{3, 2e-4f, 0.5f, 2.f}), {2, 5, 3, 3});
  add("lstm", make_layer<LSTM>(RecurrentOptions{4, 3, false, true}), {2, 5, 4});
  add("matmul_weight", make_layer<MatMul>(Shape{4, 2}), {3, 4});
  add("matmul_two_inputs", [] { return on_itself(std::make_unique<MatMul>()); }, {2, 3, 3});
  add("max_pool2d", make_layer<MaxPool2d>(Pool2dOptions{.kernel = 3, .stride = Size2{2}}),
      {2, 3, 7, 7});
  add("pad", make_layer<Pad>(std::vector<int64_t>{0, 1, 0, 2}, PadMode::edge), {2, 3});
  add("prelu", make_layer<PReLU>(4, 0.1f), {2, 4, 3});
  add("reduce", make_layer<Reduce>(ReduceOp::mean, std::vector<int64_t>{1, 2}, false), {2, 3, 4});
  add("relu", make_layer<ReLU>(), {2, 5});
  add("reshape", make_layer<Reshape>(Shape{2, -1}), {2, 4, 3});
  add("resize",
      make_layer<Resize>(ResizeOptions{.mode = ResizeMode::linear,
                                       .coordinates = ResizeCoordinates::align_corners,
                                       .height = 5,
                                       .width = 6}),
      {2, 3, 4, 4});
  add("sequential",
      [] {
        auto seq = std::make_unique<Sequential>();
        seq->add(std::make_unique<Linear>(2, 2), "first");
        seq->add(std::make_unique<Sigmoid>());
        return seq;
      },
      {3, 2});
  add("sigmoid", make_layer<Sigmoid>(), {2, 5});
  add("slice",
      make_layer<Slice>(std::vector<int64_t>{1}, std::vector<int64_t>{-3},
                        std::vector<int64_t>{INT64_MAX}, std::vector<int64_t>{2}),
      {2, 6});
  add("softmax", make_layer<SoftMax>(-1), {2, 5});
  add("softplus", make_layer<SoftPlus>(2.f, 15.f), {2, 5});
  add("tanh", make_layer<Tanh>(), {2, 5});
  add("time_distributed",
      [] { return std::make_unique<TimeDistributed>(std::make_unique<Linear>(3, 2)); }, {2, 4, 3});
  add("transpose", make_layer<Transpose>(std::vector<int64_t>{0, 2, 1}), {2, 3, 4});
  add("unary_selu", make_layer<Unary>(UnaryOp::selu, 1.5f, 1.1f), {2, 5});
  add("view", make_layer<View>(Shape{-1, 6}), {2, 2, 3});
  // Comparisons, logic and the later opsets' functions, and the selection layers.
  add("binary_less_fixed", make_layer<Binary>(BinaryOp::less, Shape{4}, false, false), {2, 4});
  add("binary_xor_fixed", make_layer<Binary>(BinaryOp::logical_xor, Shape{4}, false, false),
      {2, 4});
  add("binary_fmod_constant", make_layer<Binary>(BinaryOp::fmod, Shape{4}, false, true), {2, 4});
  add("binary_mod_constant_first", make_layer<Binary>(BinaryOp::mod, Shape{4}, true, true), {2, 4});
  for (const UnaryOp op : {UnaryOp::logical_not, UnaryOp::sign, UnaryOp::round, UnaryOp::atan,
                           UnaryOp::hard_swish, UnaryOp::mish, UnaryOp::is_nan}) {
    add("unary_" + std::string(fields::enum_name(op)), make_layer<Unary>(op, 0.f, 0.f), {2, 5});
  }
  add("unary_shrink", make_layer<Unary>(UnaryOp::shrink, 0.3f, 0.1f), {2, 5});
  add("unary_celu", make_layer<Unary>(UnaryOp::celu, 0.7f, 0.f), {2, 5});
  add("where_three_inputs",
      [] {
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        g->add(std::make_unique<Where>(), {x, x, x}, "where");
        return g;
      },
      {2, 3});
  add("where_fixed_y",
      [] {
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        g->add(std::make_unique<Where>(WhereOptions{.y_shape = Shape{3}}), {x, x}, "where");
        return g;
      },
      {2, 3});
  add("trilu", make_layer<Trilu>(TriluOptions{.upper = false, .k = 1}), {2, 3, 4});
  add("gather_elements",
      make_layer<GatherElements>(
          GatherElementsOptions{.axis = 1, .indices = {2, 0, 1, 1, 0, 2}, .indices_shape = {1, 6}}),
      {2, 3});  // fixed indices fix the batch: those of one sample
  add("arg_reduce", make_layer<ArgReduce>(ArgReduceOptions{.op = ArgOp::min, .axis = 1}), {2, 5});
  add("expand_to_batch",
      make_layer<ExpandToBatch>(ExpandToBatchOptions{
          .value_shape = {1, 2, 3}, .axis = 0, .input_axis = 0, .trainable = true}),
      {2, 5});
  add("expand_to_batch_fixed_middle",
      make_layer<ExpandToBatch>(ExpandToBatchOptions{
          .value_shape = {4, 1}, .axis = 1, .input_axis = 0, .trainable = false}),
      {3, 2});
  add("layer_norm", make_layer<LayerNorm>(LayerNormOptions{.normalized_shape = {3, 4}}), {2, 3, 4});
  add("multi_head_attention",
      make_layer<MultiHeadAttention>(MultiHeadAttentionOptions{.embed_dim = 6, .num_heads = 2}),
      {2, 5, 6});
  add("multi_head_attention_causal_key_mask",
      [] {
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        // Keys whose first feature is positive are masked.
        const auto first =
            g->add(std::make_unique<Slice>(std::vector<int64_t>{2}, std::vector<int64_t>{0},
                                           std::vector<int64_t>{1}, std::vector<int64_t>{1}),
                   {x}, "first");
        const auto flat = g->add(std::make_unique<View>(Shape{-1, 5}), {first}, "flat");
        const auto mask = g->add(std::make_unique<Binary>(BinaryOp::greater, Shape{}, false, false),
                                 {flat}, "mask");
        g->add(std::make_unique<MultiHeadAttention>(
                   MultiHeadAttentionOptions{.embed_dim = 4, .num_heads = 2, .causal = true}),
               {x, mask}, "attention");
        return g;
      },
      {2, 5, 4});
  add("scaled_dot_product_masked",
      [] {
        // x as query, key and value; the constant mask filled in.
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        auto a = std::make_unique<ScaledDotProductAttention>(
            ScaledDotProductAttentionOptions{.scale = 0.5f, .mask_shape = Shape{5, 5}});
        for (int64_t i = 0; i < 25; ++i) a->mask().f32()[i] = static_cast<float>(i % 3) - 1.f;
        g->add(std::move(a), {x, x, x}, "attention");
        return g;
      },
      {2, 3, 5, 4});
  add("scaled_dot_product_causal_input_mask_key_transposed",
      [] {
        // x (N, L, L): query, transposed key, value and the mask.
        auto g = std::make_unique<Graph>();
        const auto x = g->add_input("x");
        g->add(std::make_unique<ScaledDotProductAttention>(
                   ScaledDotProductAttentionOptions{.key_transposed = true, .causal = true}),
               {x, x, x, x}, "attention");
        return g;
      },
      {2, 4, 4});
  add("transformer_encoder_layer",
      [] {
        return transformer_encoder_layer(
            {.d_model = 6, .nhead = 3, .dim_feedforward = 8, .gelu = true});
      },
      {2, 4, 6});
  return out;
}

}  // namespace bdl::testing
