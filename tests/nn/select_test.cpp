// Comparisons, logic, the element-wise functions of later ONNX opsets, and the
// layers that choose elements, each against PyTorch and by finite differences
// through the shared layer harness; then what the harness does not reach (three
// inputs, infinities, bad shapes).
#include "bdl/nn/select.h"

#include <gmock/gmock.h>

#include <cmath>

#include "bdl/nn/elementwise.h"
#include "bdl/nn/graph.h"
#include "support/errors.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

using nn::BinaryOp;
using nn::UnaryOp;

template <typename M, typename... Args>
std::function<std::unique_ptr<nn::Module>()> make(Args... args) {
  return [=] { return std::make_unique<M>(args...); };
}

std::function<std::unique_ptr<nn::Module>()> fixed(BinaryOp op, Shape shape) {
  return [=] { return std::make_unique<nn::Binary>(op, shape, false, false); };
}

std::function<std::unique_ptr<nn::Module>()> unary(UnaryOp op, float alpha = 0.f,
                                                   float beta = 0.f) {
  return [=] { return std::make_unique<nn::Unary>(op, alpha, beta); };
}

// The predicates' input gradient is 0 by definition; equality flips within any
// finite-difference step of the integers it compares, so only PyTorch's zero
// checks it.
GradientCheckOptions no_input_check() {
  GradientCheckOptions o;
  o.check_input = false;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Select, LayerTest,
    ::testing::Values(
        LayerCase{"binary_equal_fixed", fixed(BinaryOp::equal, {3, 4}), 1e-4, 1e-5,
                  no_input_check()},
        LayerCase{"binary_less_fixed", fixed(BinaryOp::less, {4})},
        LayerCase{"binary_greater_equal_fixed", fixed(BinaryOp::greater_equal, {3, 1})},
        LayerCase{"binary_and_fixed", fixed(BinaryOp::logical_and, {4}), 1e-4, 1e-5,
                  no_input_check()},
        LayerCase{"binary_or_fixed", fixed(BinaryOp::logical_or, {3, 4}), 1e-4, 1e-5,
                  no_input_check()},
        LayerCase{"binary_xor_fixed", fixed(BinaryOp::logical_xor, {1, 4}), 1e-4, 1e-5,
                  no_input_check()},
        LayerCase{
            "binary_mod_constant",
            [] { return std::make_unique<nn::Binary>(BinaryOp::mod, Shape{4}, false, true); }},
        LayerCase{"binary_fmod_constant",
                  [] {
                    return std::make_unique<nn::Binary>(BinaryOp::fmod, Shape{3, 1}, false, true);
                  }},
        LayerCase{"unary_not", unary(UnaryOp::logical_not), 1e-4, 1e-5, no_input_check()},
        LayerCase{"unary_sign", unary(UnaryOp::sign)},
        LayerCase{"unary_round", unary(UnaryOp::round)},
        LayerCase{"unary_tan", unary(UnaryOp::tan)}, LayerCase{"unary_asin", unary(UnaryOp::asin)},
        LayerCase{"unary_acos", unary(UnaryOp::acos)},
        LayerCase{"unary_atan", unary(UnaryOp::atan)},
        LayerCase{"unary_sinh", unary(UnaryOp::sinh)},
        LayerCase{"unary_cosh", unary(UnaryOp::cosh)},
        LayerCase{"unary_asinh", unary(UnaryOp::asinh)},
        LayerCase{"unary_acosh", unary(UnaryOp::acosh)},
        LayerCase{"unary_atanh", unary(UnaryOp::atanh)},
        LayerCase{"unary_hard_swish", unary(UnaryOp::hard_swish)},
        LayerCase{"unary_mish", unary(UnaryOp::mish)},
        LayerCase{"unary_is_nan", unary(UnaryOp::is_nan)},
        LayerCase{"unary_is_inf", unary(UnaryOp::is_inf)},
        LayerCase{"unary_thresholded_relu", unary(UnaryOp::thresholded_relu, 0.5f)},
        LayerCase{"unary_shrink_soft", unary(UnaryOp::shrink, 0.5f, 0.5f)},
        LayerCase{"unary_shrink_hard", unary(UnaryOp::shrink, 0.5f, 0.f)},
        LayerCase{"unary_celu", unary(UnaryOp::celu, 1.5f)},
        LayerCase{
            "where_fixed_condition_and_y",
            make<nn::Where>(nn::WhereOptions{.condition_shape = Shape{3, 1}, .y_shape = Shape{1}})},
        LayerCase{"where_fixed_condition_and_x",
                  make<nn::Where>(nn::WhereOptions{.condition_shape = Shape{2, 1, 4},
                                                   .x_shape = Shape{3, 4}}),
                  1e-4,
                  1e-5,
                  {},
                  /*batch_independent=*/false},
        LayerCase{"trilu_upper_k1", make<nn::Trilu>(nn::TriluOptions{.upper = true, .k = 1})},
        LayerCase{"trilu_lower_k_minus_1",
                  make<nn::Trilu>(nn::TriluOptions{.upper = false, .k = -1})},
        // The indices fix the batch size.
        LayerCase{"gather_elements_axis1",
                  make<nn::GatherElements>(nn::GatherElementsOptions{
                      .axis = 1,
                      .indices = {0, 2, 1, 1, 2, 2, 0, 1, 1, 0, 0, 2, 0, 1, 2, 2},
                      .indices_shape = {2, 2, 4}}),
                  1e-4,
                  1e-5,
                  {},
                  false},
        LayerCase{"arg_max_keep", make<nn::ArgReduce>(nn::ArgReduceOptions{
                                      .op = nn::ArgOp::max, .axis = 1, .keep_dims = true})},
        LayerCase{"arg_min_last_axis", make<nn::ArgReduce>(nn::ArgReduceOptions{
                                           .op = nn::ArgOp::min, .axis = -1, .keep_dims = false})}),
    case_name);

Tensor values(std::vector<float> v, Shape s) {
  return Tensor::from_vector(std::span<const float>(v), std::move(s));
}

TEST(Where, ThreeInputsBroadcastAndSplitTheGradient) {
  nn::Where w;
  const Tensor cond = values({1, 0, 1}, {3});
  const Tensor x = values({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor y = values({-1, -2}, {2, 1});
  const Tensor* in[3] = {&cond, &x, &y};
  EXPECT_EQ(w.forward_many(in).to_vector(), (std::vector<float>{1, -1, 3, 4, -2, 6}));
  const Tensor g = values({1, 1, 1, 1, 1, 1}, {2, 3});
  const auto& grads = w.backward_many(in, g);
  EXPECT_EQ(grads[0].to_vector(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(grads[1].to_vector(), (std::vector<float>{1, 0, 1, 1, 0, 1}));
  EXPECT_EQ(grads[2].to_vector(), (std::vector<float>{1, 1}));  // one per row, summed
}

TEST(Where, FillsWithInfinityWithoutTouchingTheOtherElements) {
  // The masking attention uses: scores where allowed, -inf elsewhere.
  nn::Where w(nn::WhereOptions{.y_shape = Shape{}});
  w.owned(2).f32()[0] = -INFINITY;
  const Tensor cond = values({1, 0}, {2});
  const Tensor x = values({0.5f, 7.f}, {2});
  const Tensor* in[2] = {&cond, &x};
  const auto out = w.forward_many(in).to_vector();
  EXPECT_EQ(out[0], 0.5f);
  EXPECT_TRUE(std::isinf(out[1]) && out[1] < 0);
}

TEST(Trilu, ZeroesInfinitiesExactly) {
  // A causal mask is triu(full(-inf), 1): the kept zeros must not become NaN.
  nn::Trilu t(nn::TriluOptions{.upper = true, .k = 1});
  const Tensor x = Tensor::full({2, 2}, -INFINITY);
  const auto out = t.forward(x).to_vector();
  EXPECT_EQ(out[0], 0.f);
  EXPECT_TRUE(std::isinf(out[1]));
  EXPECT_EQ(out[2], 0.f);
  EXPECT_EQ(out[3], 0.f);
}

TEST(Select, BadShapesAreNamed) {
  nn::Trilu t;
  EXPECT_THAT(error_of([&] { (void)t.output_shape({4}); }),
              ::testing::HasSubstr("no last two dimensions"));
  nn::GatherElements g(nn::GatherElementsOptions{.axis = 0, .indices = {5}, .indices_shape = {1}});
  EXPECT_THAT(error_of([&] { (void)g.output_shape({3}); }),
              ::testing::HasSubstr("index 5 is out of range for 3 entries"));
  EXPECT_THAT(error_of([&] {
                (void)g.output_shape({3, 2});
              }),
              ::testing::HasSubstr("differ in rank"));
  nn::Where w;
  const Shape shapes[3] = {{2}, {3}, {2}};
  EXPECT_THAT(error_of([&] { (void)w.output_shape_many(shapes); }),
              ::testing::HasSubstr("do not broadcast"));
  EXPECT_THAT(error_of([&] { (void)nn::Unary(UnaryOp::celu, 0.f); }),
              ::testing::HasSubstr("alpha must not be 0"));
  EXPECT_THAT(error_of([&] {
                (void)nn::GatherElements(
                    nn::GatherElementsOptions{.indices = {1, 2}, .indices_shape = {3}});
              }),
              ::testing::HasSubstr("2 indices for an index shape [3]"));
}

TEST(ArgReduce, TiesGoFirstOrLast) {
  const Tensor x = values({3, 1, 3, 0}, {1, 4});
  nn::ArgReduce first(nn::ArgReduceOptions{.op = nn::ArgOp::max, .axis = 1});
  nn::ArgReduce last(nn::ArgReduceOptions{.op = nn::ArgOp::max, .axis = 1, .select_last = true});
  EXPECT_EQ(first.forward(x).to_vector(), (std::vector<float>{0}));
  EXPECT_EQ(last.forward(x).to_vector(), (std::vector<float>{2}));
}

}  // namespace
}  // namespace bdl::testing
