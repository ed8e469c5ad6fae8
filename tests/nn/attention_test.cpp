// LayerNorm, MultiHeadAttention and TransformerEncoderLayer against PyTorch 1.13
// (tools/fixtures/gen_nn.py) and by finite differences, through the layer
// harness; then masks and bad shapes.
#include "bdl/nn/attention.h"

#include <gmock/gmock.h>

#include <cmath>
#include <limits>

#include "bdl/nn/expand.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "support/errors.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

template <typename M, typename... Args>
std::function<std::unique_ptr<nn::Module>()> make(Args... args) {
  return [=] { return std::make_unique<M>(args...); };
}

std::function<std::unique_ptr<nn::Module>()> encoder(bool norm_first, bool gelu) {
  return [=]() -> std::unique_ptr<nn::Module> {
    return nn::transformer_encoder_layer({.d_model = 8,
                                          .nhead = 2,
                                          .dim_feedforward = 16,
                                          .dropout = 0.f,
                                          .gelu = gelu,
                                          .norm_first = norm_first});
  };
}

// ScaledDotProductAttention in a Graph that slices q, k, v (and a mask) from
// one input (..., L, 3d [+ L]), like tools/fixtures/gen_nn.py's AttentionCore.
std::function<std::unique_ptr<nn::Module>()> core(int64_t d, nn::ScaledDotProductAttentionOptions o,
                                                  bool input_mask = false) {
  return [=]() -> std::unique_ptr<nn::Module> {
    auto g = std::make_unique<nn::Graph>();
    const auto x = g->add_input("x");
    auto slice = [&](int64_t from, int64_t to, const char* name) {
      return g->add(
          std::make_unique<nn::Slice>(std::vector<int64_t>{-1}, std::vector<int64_t>{from},
                                      std::vector<int64_t>{to}, std::vector<int64_t>{1}),
          {x}, name);
    };
    const auto q = slice(0, d, "q");
    auto k = slice(d, 2 * d, "k");
    const auto v = slice(2 * d, 3 * d, "v");
    if (o.key_transposed) {
      // A rank-4 or rank-3 input: swap the last two axes.
      const std::vector<int64_t> perm =
          d == 5 ? std::vector<int64_t>{0, 2, 1} : std::vector<int64_t>{0, 1, 3, 2};
      k = g->add(std::make_unique<nn::Transpose>(perm), {k}, "kt");
    }
    std::vector<nn::Graph::Node> from = {q, k, v};
    if (input_mask) from.push_back(slice(3 * d, std::numeric_limits<int64_t>::max(), "mask"));
    g->set_output(g->add(std::make_unique<nn::ScaledDotProductAttention>(o), from, "attention"));
    return g;
  };
}

INSTANTIATE_TEST_SUITE_P(
    Attention, LayerTest,
    ::testing::Values(
        LayerCase{"layer_norm_last",
                  make<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = {5}})},
        LayerCase{"layer_norm_two_dims", make<nn::LayerNorm>(nn::LayerNormOptions{
                                             .normalized_shape = {3, 4}, .eps = 1e-3f})},
        LayerCase{"layer_norm_no_affine",
                  make<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = {6},
                                                           .elementwise_affine = false})},
        LayerCase{"multi_head_attention",
                  make<nn::MultiHeadAttention>(nn::MultiHeadAttentionOptions{.embed_dim = 8,
                                                                             .num_heads = 2})},
        LayerCase{"multi_head_attention_causal",
                  make<nn::MultiHeadAttention>(nn::MultiHeadAttentionOptions{
                      .embed_dim = 8, .num_heads = 4, .causal = true})},
        LayerCase{"transformer_encoder_layer", encoder(false, false)},
        LayerCase{"transformer_encoder_layer_norm_first_gelu", encoder(true, true)},
        LayerCase{"scaled_dot_product", core(5, {})},
        LayerCase{"scaled_dot_product_scaled_masked",
                  core(5, {.scale = 0.3f, .key_transposed = true, .mask_shape = Shape{4, 4}})},
        LayerCase{"scaled_dot_product_causal", core(3, {.causal = true})},
        LayerCase{"scaled_dot_product_input_mask", core(4, {}, true)},
        LayerCase{"expand_to_batch", make<nn::ExpandToBatch>(nn::ExpandToBatchOptions{
                                         .value_shape = {1, 2, 3}, .axis = 0, .input_axis = 0})}),
    case_name);

Tensor sequence(int64_t n, int64_t len, int64_t e) {
  Tensor x({n, len, e});
  auto v = x.span_f32();
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * static_cast<float>(i));
  return x;
}

TEST(MultiHeadAttention, MaskedKeysChangeNothingWhenTheyChange) {
  // With the last key masked, changing that position's input leaves the other
  // positions' outputs as they were (causal attention too: later positions
  // never reach earlier ones).
  nn::MultiHeadAttention a({.embed_dim = 4, .num_heads = 2});
  Tensor x = sequence(1, 3, 4);
  const Tensor mask =
      Tensor::from_vector(std::span<const float>(std::vector<float>{0, 0, 1}), {1, 3});
  const Tensor* in[2] = {&x, &mask};
  const auto before = a.forward_many(in).to_vector();
  for (int i = 8; i < 12; ++i) x.f32()[i] += 5.f;
  const auto after = a.forward_many(in).to_vector();
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(before[i], after[i]) << i;
  nn::MultiHeadAttention causal({.embed_dim = 4, .num_heads = 1, .causal = true});
  Tensor y = sequence(1, 3, 4);
  const auto c0 = causal.forward(y).to_vector();
  for (int i = 4; i < 12; ++i) y.f32()[i] -= 2.f;
  const auto c1 = causal.forward(y).to_vector();
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(c0[i], c1[i]) << i;
}

TEST(MultiHeadAttention, BadShapesAreNamed) {
  nn::MultiHeadAttention a({.embed_dim = 4, .num_heads = 2});
  EXPECT_THAT(error_of([&] {
                (void)a.output_shape({2, 3, 5});
              }),
              ::testing::HasSubstr("input [2, 3, 5] is not (batch, length, 4)"));
  const Shape with_mask[2] = {{2, 3, 4}, {2, 4}};
  EXPECT_THAT(error_of([&] { (void)a.output_shape_many(with_mask); }),
              ::testing::HasSubstr("key mask [2, 4] is not (batch, length) = [2, 3]"));
  EXPECT_THAT(error_of([] { nn::MultiHeadAttention({.embed_dim = 6, .num_heads = 4}); }),
              ::testing::HasSubstr("4 heads do not divide embed_dim 6"));
  nn::LayerNorm n({.normalized_shape = {3}});
  EXPECT_THAT(error_of([&] {
                (void)n.output_shape({2, 4});
              }),
              ::testing::HasSubstr("does not end in normalized_shape [3]"));
}

}  // namespace
}  // namespace bdl::testing
