// Max pooling against a plain-loop reference: forward values and the routing of
// the gradient to each window's first maximum, for plain NCHW and 8- and
// 16-channel blocks (bdl's own loops run the blocked ones, oneDNN the plain one;
// see src/kernels/pooling.cpp),
// on tiled, overlapping, padded, clipped (ceil mode) and global windows, with
// ties and NaN.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bdl/core/random.h"
#include "bdl/kernels/pooling.h"
#include "kernels/layout.h"
#include "support/tensor_matchers.h"

namespace bdl::kernels {
namespace {

using bdl::testing::all_close;

struct Reference {
  Tensor y, gx;
};

// PyTorch's rule: a value replaces the running maximum when it is greater or is
// NaN; the gradient goes to that position.
Reference reference(const Pool2dGeometry& g, const Tensor& x, const Tensor& gy) {
  Reference r{Tensor({g.batch, g.channels, g.out_height(), g.out_width()}),
              Tensor({g.batch, g.channels, g.in_height, g.in_width})};
  r.gx.fill(0.f);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t oy = 0; oy < g.out_height(); ++oy)
        for (int64_t ox = 0; ox < g.out_width(); ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t at_y = -1, at_x = -1;
          for (int64_t ky = 0; ky < g.kernel_h; ++ky)
            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
              const int64_t iy = oy * g.stride_h - g.pad_top + ky;
              const int64_t ix = ox * g.stride_w - g.pad_left + kx;
              if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) continue;
              const float v = x.at({n, c, iy, ix});
              if (at_y < 0 || v > best || std::isnan(v)) {
                best = v;
                at_y = iy;
                at_x = ix;
              }
            }
          r.y.f32()[((n * g.channels + c) * g.out_height() + oy) * g.out_width() + ox] = best;
          r.gx.f32()[((n * g.channels + c) * g.in_height + at_y) * g.in_width + at_x] +=
              gy.at({n, c, oy, ox});
        }
  return r;
}

// t in the layout of tag (plain when tag is abcd).
Tensor in_layout_of(const Tensor& t, Tag tag) {
  if (tag == Tag::abcd) return t;
  Tensor out;
  resize_to(out, t.shape(), f32_desc(t.shape(), tag));
  reorder(desc_of(t), t.f32(), desc_of(out), out.f32());
  return out;
}

struct Case {
  const char* name;
  int64_t channels, height, width, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
      pad_bottom, pad_right;
};

const Case kCases[] = {
    {"2x2 stride 2 (LeNet)", 6, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0},
    {"2x2 stride 2, odd size (floor)", 16, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0},
    {"3x3 stride 2 pad 1 (ResNet)", 20, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1},
    {"3x3 stride 1 pad 1 (Inception)", 5, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1},
    {"2x2 stride 1 (overlapping)", 9, 5, 6, 2, 2, 1, 1, 0, 0, 0, 0},
    {"3x3 stride 2 ceil mode", 16, 8, 8, 3, 3, 2, 2, 0, 0, 1, 1},
    {"4x3 stride 3x2", 3, 10, 9, 4, 3, 3, 2, 1, 0, 2, 1},
    {"1x1", 8, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0},
    {"global 5x6", 17, 5, 6, 5, 6, 1, 1, 0, 0, 0, 0},
};

Pool2dGeometry geometry_of(const Case& c) {
  return {.batch = 3,
          .channels = c.channels,
          .in_height = c.height,
          .in_width = c.width,
          .kernel_h = c.kernel_h,
          .kernel_w = c.kernel_w,
          .stride_h = c.stride_h,
          .stride_w = c.stride_w,
          .pad_top = c.pad_top,
          .pad_left = c.pad_left,
          .pad_bottom = c.pad_bottom,
          .pad_right = c.pad_right,
          .kind = PoolKind::max};
}

// With rectify, x is a ReLU's output and the gradient must also pass that
// ReLU's backward: kept only where x > 0.
void check(const Pool2dGeometry& g, const Tensor& x, const Tensor& gy, const std::string& what,
           bool rectify = false,
           std::initializer_list<Tag> layouts = {Tag::abcd, Tag::aBcd8b, Tag::aBcd16b}) {
  Reference want = reference(g, x, gy);
  if (rectify) {
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (!(x.f32()[i] > 0.f)) want.gx.f32()[i] = 0.f;
    }
  }
  for (Tag tag : layouts) {
    SCOPED_TRACE(what + (tag == Tag::abcd ? ", plain" : tag == Tag::aBcd8b ? ", 8b" : ", 16b"));
    const Tensor xb = in_layout_of(x, tag);
    Pool2dKernel kernel;
    Tensor y, gx;
    kernel.forward(g, xb, y);
    EXPECT_EQ(y.is_plain(), tag == Tag::abcd) << "the output keeps the input's layout";
    const Tensor y_plain = y.contiguous();
    for (int64_t i = 0; i < want.y.numel(); ++i) {
      const float a = y_plain.f32()[i], b = want.y.f32()[i];
      ASSERT_TRUE(a == b || (std::isnan(a) && std::isnan(b)))
          << "output " << i << ": " << a << " against " << b;
    }
    // The gradient arrives in the output's layout, as the next layer passes it.
    Tensor gy_in;
    resize_to(gy_in, gy.shape(), desc_of(y));
    reorder(desc_of(gy), gy.f32(), desc_of(gy_in), gy_in.f32());
    kernel.backward(g, xb, gy_in, gx, rectify);
    EXPECT_TRUE(all_close(gx.contiguous(), want.gx, 1e-6, 1e-6));
  }
}

// Every case with inputs from fill_x and random output gradients.
template <typename FillX>
void check_every_case(uint64_t seed, FillX fill_x, bool rectify = false) {
  Rng rng(seed);
  for (const Case& c : kCases) {
    const Pool2dGeometry g = geometry_of(c);
    Tensor x({g.batch, g.channels, g.in_height, g.in_width});
    Tensor gy({g.batch, g.channels, g.out_height(), g.out_width()});
    for (float& v : x.span_f32()) v = fill_x(rng);
    rng.fill_uniform(gy.span_f32(), -1.f, 1.f);
    check(g, x, gy, c.name, rectify);
  }
}

float uniform(Rng& rng) { return rng.uniform(-1.f, 1.f); }

TEST(MaxPoolKernel, MatchesPlainLoopReferenceInEveryLayout) { check_every_case(3, uniform); }

// Values from {-1, 0, 1}: most windows hold ties, and the first maximum must win
// in every layout (the gradient of a tie goes to one position, not several).
TEST(MaxPoolKernel, TiesGoToTheFirstMaximum) {
  check_every_case(4, [](Rng& rng) { return static_cast<float>(rng.below(3)) - 1.f; });
}

// Sequential's ReLU + pooling fusion: on a ReLU's output (a third of it zeros,
// whole windows of zeros among them) the gradient also passes the ReLU's mask.
TEST(MaxPoolKernel, RectifyingBackwardAppliesTheReLUMask) {
  check_every_case(
      6, [](Rng& rng) { return std::max(rng.uniform(-0.5f, 1.f), 0.f); },
      /*rectify=*/true);
}

// Average pooling runs on oneDNN; its rectifying backward masks afterwards.
TEST(AvgPoolKernel, RectifyingBackwardAppliesTheReLUMask) {
  Pool2dGeometry g = geometry_of(kCases[2]);
  g.kind = PoolKind::avg_include_padding;
  Rng rng(8);
  Tensor x({g.batch, g.channels, g.in_height, g.in_width});
  Tensor gy({g.batch, g.channels, g.out_height(), g.out_width()});
  rng.fill_uniform(x.span_f32(), -0.5f, 1.f);
  for (float& v : x.span_f32()) v = std::max(v, 0.f);
  rng.fill_uniform(gy.span_f32(), -1.f, 1.f);
  const Tensor xb = in_layout_of(x, Tag::aBcd16b);
  Pool2dKernel plain, masked;
  Tensor y, y2, gx, gx_masked;
  plain.forward(g, xb, y);
  masked.forward(g, xb, y2);
  Tensor gy_in;
  resize_to(gy_in, gy.shape(), desc_of(y));
  reorder(desc_of(gy), gy.f32(), desc_of(gy_in), gy_in.f32());
  plain.backward(g, xb, gy_in, gx);
  masked.backward(g, xb, gy_in, gx_masked, /*rectify=*/true);
  Tensor want = gx.contiguous();
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (!(x.f32()[i] > 0.f)) want.f32()[i] = 0.f;
  }
  EXPECT_TRUE(all_close(gx_masked.contiguous(), want, 0, 0));
}

// In the blocked layouts bdl's loops run. Plain NCHW runs on oneDNN 2.6, whose
// max pooling does not propagate NaN (as before these loops; inputs are checked
// finite when they come in, so NaN arises only from a diverging run).
TEST(MaxPoolKernel, NaNPropagatesAndInfinitiesAreValues) {
  const Pool2dGeometry g = geometry_of(kCases[0]);
  Tensor x({g.batch, g.channels, g.in_height, g.in_width});
  Tensor gy({g.batch, g.channels, g.out_height(), g.out_width()});
  Rng rng(5);
  rng.fill_uniform(x.span_f32(), -1.f, 1.f);
  rng.fill_uniform(gy.span_f32(), -1.f, 1.f);
  auto span = x.span_f32();
  for (size_t i = 0; i < span.size(); i += 7) span[i] = std::numeric_limits<float>::quiet_NaN();
  for (size_t i = 3; i < span.size(); i += 11) span[i] = -std::numeric_limits<float>::infinity();
  for (size_t i = 5; i < span.size(); i += 13) span[i] = std::numeric_limits<float>::infinity();
  check(g, x, gy, "NaN and infinities", false, {Tag::aBcd8b, Tag::aBcd16b});
}

}  // namespace
}  // namespace bdl::kernels
