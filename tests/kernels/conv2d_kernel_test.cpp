// The oneDNN convolution against a plain-loop reference (the test oracle STYLE.md
// asks every kernel to keep), on random geometries, and with inputs and
// gradients arriving in the blocked layouts other kernels produce.
#include <gtest/gtest.h>

#include "bdl/core/random.h"
#include "bdl/kernels/conv2d.h"
#include "kernels/layout.h"
#include "support/tensor_matchers.h"

namespace bdl::kernels {
namespace {

using bdl::testing::all_close;

// Direct convolution in double precision: out[n][o][y][x] = b[o] + sum w * in.
Tensor reference_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& w,
                         const Tensor& b) {
  Tensor out({g.batch, g.out_channels, g.out_height(), g.out_width()});
  const int64_t in_per_group = g.in_channels / g.groups;
  const int64_t out_per_group = g.out_channels / g.groups;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t o = 0; o < g.out_channels; ++o)
      for (int64_t oy = 0; oy < g.out_height(); ++oy)
        for (int64_t ox = 0; ox < g.out_width(); ++ox) {
          double sum = g.has_bias ? b.at({o}) : 0.0;
          const int64_t group = o / out_per_group;
          for (int64_t i = 0; i < in_per_group; ++i)
            for (int64_t ky = 0; ky < g.kernel_h; ++ky)
              for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) continue;
                sum += double{w.at({o, i, ky, kx})} * x.at({n, group * in_per_group + i, iy, ix});
              }
          out.f32()[((n * g.out_channels + o) * g.out_height() + oy) * g.out_width() + ox] =
              static_cast<float>(sum);
        }
  return out;
}

Tensor random(const Shape& shape, Rng& rng) {
  Tensor t(shape);
  rng.fill_uniform(t.span_f32(), -1.f, 1.f);
  return t;
}

TEST(Conv2dKernel, ForwardMatchesPlainLoopReferenceOnRandomGeometries) {
  Rng rng(11);
  for (int trial = 0; trial < 12; ++trial) {
    Conv2dGeometry g;
    g.groups = 1 + static_cast<int64_t>(rng.below(2));
    g.batch = 1 + static_cast<int64_t>(rng.below(3));
    g.in_channels = g.groups * (1 + static_cast<int64_t>(rng.below(4)));
    g.out_channels = g.groups * (1 + static_cast<int64_t>(rng.below(20)));
    g.in_height = 5 + static_cast<int64_t>(rng.below(6));
    g.in_width = 5 + static_cast<int64_t>(rng.below(6));
    g.kernel_h = 1 + static_cast<int64_t>(rng.below(3));
    g.kernel_w = 1 + static_cast<int64_t>(rng.below(3));
    g.stride_h = 1 + static_cast<int64_t>(rng.below(2));
    g.stride_w = 1 + static_cast<int64_t>(rng.below(2));
    g.pad_top = g.pad_bottom = static_cast<int64_t>(rng.below(2));
    g.pad_left = static_cast<int64_t>(rng.below(2));
    g.pad_right = static_cast<int64_t>(rng.below(2));  // asymmetric
    g.dilation_h = 1 + static_cast<int64_t>(rng.below(2));
    g.has_bias = rng.below(2) == 0;
    const Tensor x = random({g.batch, g.in_channels, g.in_height, g.in_width}, rng);
    const Tensor w =
        random({g.out_channels, g.in_channels / g.groups, g.kernel_h, g.kernel_w}, rng);
    const Tensor b = random({g.out_channels}, rng);
    Conv2dKernel kernel;
    Tensor y;
    kernel.forward(g, x, w.f32(), b.f32(), y);
    EXPECT_TRUE(all_close(y, reference_forward(g, x, w, b), 1e-4, 1e-5))
        << "trial " << trial << " layout " << (y.is_plain() ? "plain" : y.layout()->name());
  }
}

// conv -> conv: the second kernel receives the first's blocked output, and its
// input gradient is blocked too; converting to plain must give the same numbers
// as running on plain tensors.
TEST(Conv2dKernel, AcceptsBlockedInputsAndGradients) {
  Rng rng(5);
  Conv2dGeometry g1{.batch = 2,
                    .in_channels = 3,
                    .in_height = 9,
                    .in_width = 9,
                    .out_channels = 16,
                    .kernel_h = 3,
                    .kernel_w = 3};
  Conv2dGeometry g2{.batch = 2,
                    .in_channels = 16,
                    .in_height = 7,
                    .in_width = 7,
                    .out_channels = 32,
                    .kernel_h = 3,
                    .kernel_w = 3,
                    .pad_top = 1,
                    .pad_left = 1,
                    .pad_bottom = 1,
                    .pad_right = 1};
  const Tensor x = random({2, 3, 9, 9}, rng);
  const Tensor w1 = random({16, 3, 3, 3}, rng), b1 = random({16}, rng);
  const Tensor w2 = random({32, 16, 3, 3}, rng), b2 = random({32}, rng);
  Conv2dKernel k1, k2, k2_plain;
  Tensor h, y, y_plain;
  k1.forward(g1, x, w1.f32(), b1.f32(), h);
  ASSERT_FALSE(h.is_plain()) << "expected oneDNN to pick a blocked layout on this CPU";
  k2.forward(g2, h, w2.f32(), b2.f32(), y);
  const Tensor h_plain = h.contiguous();
  k2_plain.forward(g2, h_plain, w2.f32(), b2.f32(), y_plain);
  EXPECT_TRUE(all_close(y, y_plain.contiguous(), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(h_plain, reference_forward(g1, x, w1, b1), 1e-4, 1e-5));

  const Tensor gy = random({2, 32, 7, 7}, rng);
  // The same gradient in y's blocked layout, as the next layer would pass it.
  Tensor gy_blocked;
  gy_blocked.resize(gy.shape(), y.layout());
  reorder(desc_of(gy), gy.f32(), desc_of(gy_blocked), gy_blocked.f32());
  Tensor gx, gx_plain;
  Tensor gw({32, 16, 3, 3}), gb({32}), gw_plain({32, 16, 3, 3}), gb_plain({32});
  k2.backward(g2, h, gy_blocked, &gx, gw.f32(), gb.f32());
  k2_plain.backward(g2, h_plain, gy, &gx_plain, gw_plain.f32(), gb_plain.f32());
  EXPECT_TRUE(all_close(gx.contiguous(), gx_plain.contiguous(), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(gw, gw_plain, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(gb, gb_plain, 1e-5, 1e-6));
}

}  // namespace
}  // namespace bdl::kernels
