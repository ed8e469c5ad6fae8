// The layers ONNX import is built from, each against PyTorch and by finite
// differences through the shared layer harness.
#include "bdl/nn/elementwise.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

using nn::BinaryOp;
using nn::ReduceOp;
using nn::UnaryOp;

template <typename M, typename... Args>
std::function<std::unique_ptr<nn::Module>()> make(Args... args) {
  return [=] { return std::make_unique<M>(args...); };
}

std::function<std::unique_ptr<nn::Module>()> with_constant(BinaryOp op, Shape shape,
                                                           bool first = false) {
  return [=] { return std::make_unique<nn::Binary>(op, shape, first, true); };
}

// x / sum(x * x, dim 1): two-input Binary with broadcasting, fed twice by one node.
std::unique_ptr<nn::Module> divide_by_sum_of_squares() {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  const auto sq = g->add(std::make_unique<nn::Binary>(BinaryOp::mul), {x, x});
  const auto s =
      g->add(std::make_unique<nn::Reduce>(ReduceOp::sum, std::vector<int64_t>{1}, true), {sq});
  g->add(std::make_unique<nn::Binary>(BinaryOp::div), {x, s});
  return g;
}

std::unique_ptr<nn::Module> subtract_mean() {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  const auto m =
      g->add(std::make_unique<nn::Reduce>(ReduceOp::mean, std::vector<int64_t>{0, 2}, true), {x});
  g->add(std::make_unique<nn::Binary>(BinaryOp::sub), {x, m});
  return g;
}

// x @ x^T per sample: MatMul of two inputs.
std::unique_ptr<nn::Module> gram() {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  const auto t = g->add(std::make_unique<nn::Transpose>(std::vector<int64_t>{0, 2, 1}), {x});
  g->add(std::make_unique<nn::MatMul>(), {x, t});
  return g;
}

INSTANTIATE_TEST_SUITE_P(
    TensorOps, LayerTest,
    ::testing::Values(
        LayerCase{"binary_add_constant", with_constant(BinaryOp::add, {3, 1})},
        LayerCase{"binary_sub_constant_first", with_constant(BinaryOp::sub, {4}, true)},
        LayerCase{"binary_mul_constant", with_constant(BinaryOp::mul, {1, 3, 1, 1})},
        LayerCase{"binary_div_constant", with_constant(BinaryOp::div, {3, 4})},
        LayerCase{"binary_pow_constant", with_constant(BinaryOp::pow, {4})},
        LayerCase{"binary_max_constant", with_constant(BinaryOp::max, {3, 4})},
        LayerCase{"binary_min_constant", with_constant(BinaryOp::min, {3, 4})},
        LayerCase{"binary_div_broadcast", divide_by_sum_of_squares},
        // The mean is over the batch too.
        LayerCase{"binary_sub_broadcast", subtract_mean, 1e-4, 1e-5, {}, false},
        LayerCase{"unary_abs", make<nn::Unary>(UnaryOp::abs, 0.f, 0.f)},
        LayerCase{"unary_neg", make<nn::Unary>(UnaryOp::neg, 0.f, 0.f)},
        LayerCase{"unary_exp", make<nn::Unary>(UnaryOp::exp, 0.f, 0.f)},
        LayerCase{"unary_log", make<nn::Unary>(UnaryOp::log, 0.f, 0.f)},
        LayerCase{"unary_sqrt", make<nn::Unary>(UnaryOp::sqrt, 0.f, 0.f)},
        LayerCase{"unary_reciprocal", make<nn::Unary>(UnaryOp::reciprocal, 0.f, 0.f)},
        LayerCase{"unary_sin", make<nn::Unary>(UnaryOp::sin, 0.f, 0.f)},
        LayerCase{"unary_cos", make<nn::Unary>(UnaryOp::cos, 0.f, 0.f)},
        LayerCase{"unary_erf", make<nn::Unary>(UnaryOp::erf, 0.f, 0.f)},
        LayerCase{"unary_softsign", make<nn::Unary>(UnaryOp::softsign, 0.f, 0.f)},
        LayerCase{"unary_selu",
                  make<nn::Unary>(UnaryOp::selu, 1.6732632423543772f, 1.0507009873554805f)},
        LayerCase{"unary_hard_sigmoid", make<nn::Unary>(UnaryOp::hard_sigmoid, 0.2f, 0.5f)},
        LayerCase{"matmul_weight", make<nn::MatMul>(Shape{4, 5})},
        LayerCase{"matmul_weight_batched", make<nn::MatMul>(Shape{1, 4, 5})},
        LayerCase{"matmul_weight_vector", make<nn::MatMul>(Shape{4})},
        LayerCase{"matmul_two_inputs", gram},
        // A fixed shape across the batch dimension: one sample does not fit it.
        LayerCase{"view_batch", make<nn::View>(Shape{3, 8}), 1e-4, 1e-5, {}, false},
        LayerCase{"transpose", make<nn::Transpose>(std::vector<int64_t>{0, 2, 3, 1})},
        LayerCase{"slice_steps",
                  make<nn::Slice>(std::vector<int64_t>{1, 2}, std::vector<int64_t>{1, 0},
                                  std::vector<int64_t>{3, INT64_MAX}, std::vector<int64_t>{1, 2})},
        LayerCase{"pad_constant", make<nn::Pad>(std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 2},
                                                nn::PadMode::constant, 0.5f)},
        LayerCase{"pad_reflect", make<nn::Pad>(std::vector<int64_t>{0, 0, 1, 2, 0, 0, 2, 1},
                                               nn::PadMode::reflect, 0.f)},
        LayerCase{"pad_edge", make<nn::Pad>(std::vector<int64_t>{0, 0, 2, 1, 0, 0, 0, 3},
                                            nn::PadMode::edge, 0.f)},
        LayerCase{"gather",
                  make<nn::Gather>(int64_t{1}, std::vector<int64_t>{2, 0, 2, -1}, Shape{2, 2})},
        LayerCase{"reduce_sum", make<nn::Reduce>(ReduceOp::sum, std::vector<int64_t>{1, 3}, true)},
        LayerCase{"reduce_mean", make<nn::Reduce>(ReduceOp::mean, std::vector<int64_t>{2}, false)},
        LayerCase{"reduce_max", make<nn::Reduce>(ReduceOp::max, std::vector<int64_t>{1, 2}, true)},
        LayerCase{"reduce_min", make<nn::Reduce>(ReduceOp::min, std::vector<int64_t>{1}, false)},
        LayerCase{"resize_nearest_x2", make<nn::Resize>(nn::ResizeOptions{
                                           .mode = nn::ResizeMode::nearest,
                                           .coordinates = nn::ResizeCoordinates::asymmetric,
                                           .rounding = nn::NearestRounding::floor,
                                           .scale_h = 2,
                                           .scale_w = 2})},
        LayerCase{"resize_bilinear_size",
                  make<nn::Resize>(nn::ResizeOptions{
                      .mode = nn::ResizeMode::linear, .height = 5, .width = 7})},
        LayerCase{
            "resize_bilinear_align_corners",
            make<nn::Resize>(nn::ResizeOptions{.mode = nn::ResizeMode::linear,
                                               .coordinates = nn::ResizeCoordinates::align_corners,
                                               .scale_h = 1.5,
                                               .scale_w = 1.5})},
        LayerCase{"resize_bilinear_scales",
                  make<nn::Resize>(nn::ResizeOptions{
                      .mode = nn::ResizeMode::linear, .scale_h = 2, .scale_w = 3})},
        LayerCase{"resize_bicubic_x2", make<nn::Resize>(nn::ResizeOptions{
                                           .mode = nn::ResizeMode::cubic,
                                           .coordinates = nn::ResizeCoordinates::pytorch_half_pixel,
                                           .scale_h = 2,
                                           .scale_w = 2})},
        LayerCase{
            "resize_bicubic_align_corners",
            make<nn::Resize>(nn::ResizeOptions{.mode = nn::ResizeMode::cubic,
                                               .coordinates = nn::ResizeCoordinates::align_corners,
                                               .height = 6,
                                               .width = 3})}),
    case_name);

TEST(Binary, ShapesThatDoNotBroadcastNameBoth) {
  nn::Binary add(BinaryOp::add);
  const std::vector<Shape> shapes{{2, 3}, {4}};
  try {
    add.output_shape_many(shapes);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3] and [4]"), std::string::npos) << e.what();
  }
}

TEST(MatMul, MismatchedInnerDimensionsIsAnError) {
  nn::MatMul m(Shape{5, 2});
  EXPECT_THROW(m.output_shape({3, 4}), Error);
}

TEST(Gather, OutOfRangeIndexIsAnError) {
  nn::Gather g(0, {3}, {1});
  EXPECT_THROW(g.output_shape({3, 2}), Error);
}

TEST(Slice, NegativeStepsReverse) {
  nn::Slice s({0}, {-1}, {INT64_MIN}, {-1});
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {4});
  EXPECT_EQ(s.forward(x).to_vector(), (std::vector<float>{4, 3, 2, 1}));
}

TEST(TensorOps, SaveAndRebuildFromAttributes) {
  for (auto make_module :
       {make<nn::Transpose>(std::vector<int64_t>{1, 0}),
        make<nn::Pad>(std::vector<int64_t>{1, 0, 0, 2}, nn::PadMode::reflect, 0.f),
        with_constant(BinaryOp::pow, {2}, true), make<nn::MatMul>(Shape{2, 2}),
        make<nn::Reduce>(ReduceOp::max, std::vector<int64_t>{0}, false)}) {
    auto m = make_module();
    nn::Attributes a(m->type());
    m->attributes(a);
    auto rebuilt = nn::create_module(m->type(), a, {});
    EXPECT_EQ(rebuilt->describe(), m->describe());
  }
}

}  // namespace
}  // namespace bdl::testing
