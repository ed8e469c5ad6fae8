#include "bdl/nn/conv_transpose2d.h"

#include <cmath>

#include "bdl/kernels/gemm.h"
#include "nn/dense.h"
#include "nn/init.h"

namespace bdl::nn {

ConvTranspose2d::ConvTranspose2d(ConvTranspose2dOptions options) : options_(options) {
  const auto& o = options_;
  BDL_CHECK(o.in_channels > 0 && o.out_channels > 0,
            "ConvTranspose2d: channels must be positive, got ", o.in_channels, " -> ",
            o.out_channels);
  BDL_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && o.stride.h > 0 && o.stride.w > 0 &&
                o.dilation.h > 0 && o.dilation.w > 0 && o.padding.h >= 0 && o.padding.w >= 0 &&
                pad_end().h >= 0 && pad_end().w >= 0 && o.output_padding.h >= 0 &&
                o.output_padding.w >= 0,
            "ConvTranspose2d: kernel, stride and dilation must be positive and paddings "
            "non-negative");
  BDL_CHECK(o.output_padding.h < std::max(o.stride.h, o.dilation.h) &&
                o.output_padding.w < std::max(o.stride.w, o.dilation.w),
            "ConvTranspose2d: output_padding must be smaller than the stride or the dilation");
  BDL_CHECK(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
            "ConvTranspose2d: groups ", o.groups, " must divide in_channels ", o.in_channels,
            " and out_channels ", o.out_channels);
  weight_ = new_weight({o.in_channels, o.out_channels / o.groups, o.kernel.h, o.kernel.w});
  grad_weight_ = Tensor(weight_.shape());
  // PyTorch's default: uniform in +-1/sqrt(fan_in), fan_in taken from the weight's
  // second dimension and kernel.
  const int64_t fan_in = o.out_channels / o.groups * o.kernel.h * o.kernel.w;
  const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
  init_uniform(weight_, bound);
  if (o.bias) {
    bias_ = new_weight({o.out_channels});
    grad_bias_ = Tensor(bias_.shape());
    init_uniform(bias_, bound);
  }
}

std::string ConvTranspose2d::describe() const {
  const auto& o = options_;
  std::string s = detail::concat("ConvTranspose2d(", o.in_channels, " -> ", o.out_channels, ", ",
                                 o.kernel.h, "x", o.kernel.w);
  if (o.stride != Size2(1)) s += detail::concat(", stride ", o.stride.h, "x", o.stride.w);
  if (o.padding != Size2(0)) s += detail::concat(", pad ", o.padding.h, "x", o.padding.w);
  if (pad_end() != o.padding) s += detail::concat(", pad end ", pad_end().h, "x", pad_end().w);
  if (o.output_padding != Size2(0)) {
    s += detail::concat(", output pad ", o.output_padding.h, "x", o.output_padding.w);
  }
  if (o.dilation != Size2(1)) s += detail::concat(", dilation ", o.dilation.h, "x", o.dilation.w);
  if (o.groups != 1) s += detail::concat(", groups ", o.groups);
  if (!o.bias) s += ", no bias";
  return s + ")";
}

void ConvTranspose2d::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight", &weight_, &grad_weight_});
  if (options_.bias) out.push_back({"bias", &bias_, &grad_bias_});
}

Shape ConvTranspose2d::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  BDL_CHECK(input[1] == options_.in_channels, label(), ": input has ", input[1],
            " channels, weight expects ", options_.in_channels);
  const auto& o = options_;
  const int64_t h = (input[2] - 1) * o.stride.h - o.padding.h - pad_end().h +
                    o.dilation.h * (o.kernel.h - 1) + o.output_padding.h + 1;
  const int64_t w = (input[3] - 1) * o.stride.w - o.padding.w - pad_end().w +
                    o.dilation.w * (o.kernel.w - 1) + o.output_padding.w + 1;
  BDL_CHECK(h > 0 && w > 0, label(), ": input ", shape_str(input), " gives an empty output");
  return {input[0], o.out_channels, h, w};
}

double ConvTranspose2d::flops(const Shape& input) const {
  const auto& o = options_;
  const int64_t per_group = o.out_channels / o.groups;
  return 2.0 * static_cast<double>(shape_numel(input)) *
         static_cast<double>(per_group * o.kernel.h * o.kernel.w);
}

namespace {

// The (channel, ky, kx) x (input pixel) matrix of a transposed convolution and
// the output it scatters to: visit(row, input pixel, output offset) for every
// pair that lands inside the output.
template <typename Visit>
void for_each_tap(const ConvTranspose2dOptions& o, int64_t channels, int64_t in_h, int64_t in_w,
                  int64_t out_h, int64_t out_w, Visit&& visit) {
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t ky = 0; ky < o.kernel.h; ++ky) {
      for (int64_t kx = 0; kx < o.kernel.w; ++kx) {
        const int64_t row = (c * o.kernel.h + ky) * o.kernel.w + kx;
        for (int64_t i = 0; i < in_h; ++i) {
          const int64_t y = i * o.stride.h - o.padding.h + ky * o.dilation.h;
          if (y < 0 || y >= out_h) continue;
          for (int64_t j = 0; j < in_w; ++j) {
            const int64_t x = j * o.stride.w - o.padding.w + kx * o.dilation.w;
            if (x < 0 || x >= out_w) continue;
            visit(row, i * in_w + j, (c * out_h + y) * out_w + x);
          }
        }
      }
    }
  }
}

}  // namespace

const Tensor& ConvTranspose2d::forward(const Tensor& input) {
  const Shape out = output_shape(input.shape());
  const Tensor& x = dense(input, dense_);
  const auto& o = options_;
  const int64_t n = out[0], g = o.groups, cin = o.in_channels / g, cout = o.out_channels / g;
  const int64_t in_h = x.shape()[2], in_w = x.shape()[3], hw = in_h * in_w;
  const int64_t oh = out[2], ow = out[3];
  const int64_t k = cout * o.kernel.h * o.kernel.w;
  output_.resize(out);
  output_.zero();
  columns_.resize({k, hw});
  float* cols = columns_.f32();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t grp = 0; grp < g; ++grp) {
      const float* xg = x.f32() + (b * o.in_channels + grp * cin) * hw;
      const float* wg = weight_.f32() + grp * cin * k;
      // columns (k, hw) = W_g^T (k, cin) x_g (cin, hw).
      kernels::gemm(true, false, k, hw, cin, 1.f, wg, k, xg, hw, 0.f, cols, hw);
      float* yg = output_.f32() + (b * o.out_channels + grp * cout) * oh * ow;
      for_each_tap(o, cout, in_h, in_w, oh, ow, [&](int64_t row, int64_t pixel, int64_t at) {
        yg[at] += cols[row * hw + pixel];
      });
    }
    if (o.bias) {
      for (int64_t c = 0; c < o.out_channels; ++c) {
        float* yc = output_.f32() + (b * o.out_channels + c) * oh * ow;
        const float v = bias_.f32()[c];
        for (int64_t i = 0; i < oh * ow; ++i) yc[i] += v;
      }
    }
  }
  return output_;
}

const Tensor& ConvTranspose2d::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  const Tensor& x = dense(input, dense_);
  const Tensor& gy = dense(grad_output, dense_grad_);
  const auto& o = options_;
  const int64_t n = x.shape()[0], g = o.groups, cin = o.in_channels / g, cout = o.out_channels / g;
  const int64_t in_h = x.shape()[2], in_w = x.shape()[3], hw = in_h * in_w;
  const int64_t oh = gy.shape()[2], ow = gy.shape()[3];
  const int64_t k = cout * o.kernel.h * o.kernel.w;
  if (needs_input_grad_) grad_input_.resize(x.shape());
  columns_.resize({k, hw});
  float* cols = columns_.f32();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t grp = 0; grp < g; ++grp) {
      // The gathered gradient: columns (k, hw) from the output pixels each tap hit.
      columns_.zero();
      const float* gyg = gy.f32() + (b * o.out_channels + grp * cout) * oh * ow;
      for_each_tap(o, cout, in_h, in_w, oh, ow, [&](int64_t row, int64_t pixel, int64_t at) {
        cols[row * hw + pixel] = gyg[at];
      });
      const float* wg = weight_.f32() + grp * cin * k;
      const float* xg = x.f32() + (b * o.in_channels + grp * cin) * hw;
      if (needs_input_grad_) {
        // grad x_g (cin, hw) = W_g (cin, k) columns (k, hw).
        kernels::gemm(false, false, cin, hw, k, 1.f, wg, k, cols, hw, 0.f,
                      grad_input_.f32() + (b * o.in_channels + grp * cin) * hw, hw);
      }
      // grad W_g (cin, k) += x_g (cin, hw) columns^T (hw, k).
      kernels::gemm(false, true, cin, k, hw, 1.f, xg, hw, cols, hw, 1.f,
                    grad_weight_.f32() + grp * cin * k, k);
    }
    if (o.bias) {
      for (int64_t c = 0; c < o.out_channels; ++c) {
        const float* gc = gy.f32() + (b * o.out_channels + c) * oh * ow;
        double sum = 0;
        for (int64_t i = 0; i < oh * ow; ++i) sum += gc[i];
        grad_bias_.f32()[c] += static_cast<float>(sum);
      }
    }
  }
  grads_are_zero_ = false;
  return grad_input_;
}

const RegisterLayers<ConvTranspose2d> kRegistered;

}  // namespace bdl::nn
