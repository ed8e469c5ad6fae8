#include "bdl/nn/dropout.h"

#include <gtest/gtest.h>

#include "bdl/core/random.h"

namespace bdl::testing {
namespace {

Tensor ones(Shape shape) { return Tensor::full(std::move(shape), 1.f); }

TEST(Dropout, ZeroesAboutPAndScalesTheRest) {
  nn::Dropout drop(0.3f);
  const Tensor& y = drop.forward(ones({100, 1000}));
  int64_t zeros = 0;
  for (float v : y.span_f32()) {
    if (v == 0) {
      ++zeros;
    } else {
      ASSERT_FLOAT_EQ(v, 1.f / 0.7f);
    }
  }
  // 1e5 Bernoulli(0.3) draws: standard deviation 145; 5 sigma either way.
  EXPECT_NEAR(static_cast<double>(zeros), 30000.0, 725.0);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  nn::Dropout drop(0.5f);
  const Tensor x = ones({4, 50});
  const Tensor y = drop.forward(x).clone();
  const Tensor& g = drop.backward(x, Tensor::full({4, 50}, 3.f));
  const auto ys = y.to_vector();
  const auto gs = g.to_vector();
  for (size_t i = 0; i < ys.size(); ++i) EXPECT_FLOAT_EQ(gs[i], ys[i] * 3.f);
}

TEST(Dropout, IsTheIdentityInEvaluation) {
  nn::Dropout drop(0.5f);
  drop.eval();
  Tensor x({3, 7});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());
  EXPECT_EQ(drop.backward(x, x).to_vector(), x.to_vector());
}

TEST(Dropout, SeedMakesMasksReproducibleAndDistinct) {
  nn::Dropout a(0.5f), b(0.5f);
  a.seed(42);
  b.seed(42);
  const auto first = a.forward(ones({64})).to_vector();
  EXPECT_EQ(first, b.forward(ones({64})).to_vector());
  EXPECT_NE(first, a.forward(ones({64})).to_vector());  // the stream moves on
  b.seed(43);
  EXPECT_NE(first, b.forward(ones({64})).to_vector());
}

TEST(Dropout, RejectsBadProbabilities) {
  EXPECT_THROW(nn::Dropout(1.f), Error);
  EXPECT_THROW(nn::Dropout(-0.1f), Error);
}

}  // namespace
}  // namespace bdl::testing
