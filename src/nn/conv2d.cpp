#include "bdl/nn/conv2d.h"

#include <cmath>

#include "bdl/kernels/conv2d.h"
#include "bdl/nn/batch_norm.h"
#include "nn/init.h"

namespace bdl::nn {

Conv2d::Conv2d(Conv2dOptions options)
    : options_(options), kernel_(std::make_unique<kernels::Conv2dKernel>()) {
  const auto& o = options;
  BDL_CHECK(o.in_channels > 0 && o.out_channels > 0, "Conv2d: channels must be positive, got ",
            o.in_channels, " -> ", o.out_channels);
  BDL_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && o.stride.h > 0 && o.stride.w > 0 &&
                o.dilation.h > 0 && o.dilation.w > 0 && o.padding.h >= 0 && o.padding.w >= 0 &&
                (!o.padding_end || (o.padding_end->h >= 0 && o.padding_end->w >= 0)),
            "Conv2d: kernel, stride and dilation must be positive and padding non-negative");
  BDL_CHECK(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
            "Conv2d: groups ", o.groups, " must divide in_channels ", o.in_channels,
            " and out_channels ", o.out_channels);
  weight_ = new_weight({o.out_channels, o.in_channels / o.groups, o.kernel.h, o.kernel.w});
  grad_weight_ = Tensor(weight_.shape());
  const int64_t fan_in = o.in_channels / o.groups * o.kernel.h * o.kernel.w;
  const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
  init_uniform(weight_, bound);
  if (o.bias) {
    bias_ = Tensor({o.out_channels});
    grad_bias_ = Tensor(bias_.shape());
    init_uniform(bias_, bound);
  }
}

Conv2d::~Conv2d() = default;

std::string Conv2d::describe() const {
  const auto& o = options_;
  std::string s = detail::concat("Conv2d(", o.in_channels, " -> ", o.out_channels, ", ", o.kernel.h,
                                 "x", o.kernel.w);
  if (o.stride != Size2(1)) s += detail::concat(", stride ", o.stride.h, "x", o.stride.w);
  if (o.padding != Size2(0)) s += detail::concat(", pad ", o.padding.h, "x", o.padding.w);
  if (o.padding_end && *o.padding_end != o.padding) {
    s += detail::concat(", pad end ", o.padding_end->h, "x", o.padding_end->w);
  }
  if (o.dilation != Size2(1)) s += detail::concat(", dilation ", o.dilation.h, "x", o.dilation.w);
  if (o.groups != 1) s += detail::concat(", groups ", o.groups);
  if (!o.bias) s += ", no bias";
  return s + ")";
}

kernels::Conv2dGeometry Conv2d::geometry(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  BDL_CHECK(input[1] == options_.in_channels, label(), ": input has ", input[1],
            " channels, weight expects ", options_.in_channels);
  const auto& o = options_;
  kernels::Conv2dGeometry g;
  g.batch = input[0];
  g.in_channels = input[1];
  g.in_height = input[2];
  g.in_width = input[3];
  g.out_channels = o.out_channels;
  g.kernel_h = o.kernel.h;
  g.kernel_w = o.kernel.w;
  g.stride_h = o.stride.h;
  g.stride_w = o.stride.w;
  const Size2 end = o.padding_end.value_or(o.padding);
  g.pad_top = o.padding.h;
  g.pad_left = o.padding.w;
  g.pad_bottom = end.h;
  g.pad_right = end.w;
  g.dilation_h = o.dilation.h;
  g.dilation_w = o.dilation.w;
  g.groups = o.groups;
  g.has_bias = o.bias;
  BDL_CHECK(g.out_height() > 0 && g.out_width() > 0, label(), ": input of shape ", shape_str(input),
            " is smaller than the ", o.kernel.h, "x", o.kernel.w,
            " kernel (with padding and dilation)");
  return g;
}

Shape Conv2d::output_shape(const Shape& input) const {
  const auto g = geometry(input);
  return {g.batch, g.out_channels, g.out_height(), g.out_width()};
}

double Conv2d::flops(const Shape& input) const {
  const auto g = geometry(input);
  const int64_t per_group = g.in_channels / g.groups;
  return 2.0 * static_cast<double>(g.batch * g.out_channels * g.out_height() * g.out_width()) *
         static_cast<double>(per_group * g.kernel_h * g.kernel_w);
}

void Conv2d::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight", &weight_, &grad_weight_});
  if (options_.bias) out.push_back({"bias", &bias_, &grad_bias_});
}

const Tensor& Conv2d::forward(const Tensor& input) {
  last_fusion_.clear();
  kernel_->forward(geometry(input.shape()), input, weight_.f32(),
                   options_.bias ? bias_.f32() : nullptr, output_, pass());
  return output_;
}

const Tensor& Conv2d::forward_rectified(const Tensor& input) {
  last_fusion_ = "relu";
  kernel_->forward(geometry(input.shape()), input, weight_.f32(),
                   options_.bias ? bias_.f32() : nullptr, output_, pass(), /*relu=*/true);
  return output_;
}

const Tensor* Conv2d::forward_fused(const Tensor& input, const BatchNorm* bn,
                                    const Tensor* residual, bool relu) {
  BDL_CHECK(inference_, label(), ": forward_fused is for inference (set_inference)");
  kernels::ConvEpilogue ep;
  if (bn != nullptr) {
    if (!bn->affine_form(folded_scale_, folded_shift_)) return nullptr;
    BDL_CHECK(static_cast<int64_t>(folded_scale_.size()) == options_.out_channels, label(),
              ": a BatchNorm of ", folded_scale_.size(), " channels after ", options_.out_channels,
              " output channels");
    ep.scale = folded_scale_.data();
    ep.shift = folded_shift_.data();
  }
  ep.residual = residual;
  ep.relu = relu;
  const bool fused = kernel_->forward_fused(geometry(input.shape()), input, weight_.f32(),
                                            options_.bias ? bias_.f32() : nullptr, output_, ep);
  if (!fused) return nullptr;
  last_fusion_.clear();
  for (const auto& [part, on] : {std::pair{"bn", bn != nullptr},
                                 std::pair{"add", residual != nullptr}, std::pair{"relu", relu}}) {
    if (!on) continue;
    if (!last_fusion_.empty()) last_fusion_ += "+";
    last_fusion_ += part;
  }
  return &output_;
}

const Tensor& Conv2d::backward(const Tensor& input, const Tensor& grad_output) {
  const auto g = geometry(input.shape());
  const Shape expected{g.batch, g.out_channels, g.out_height(), g.out_width()};
  check_grad_output(grad_output, expected);
  Tensor* grad_input = needs_input_grad_ ? &grad_input_ : nullptr;
  accumulate_grads(grad_weight_, grad_bias_, [&](float* grad_weight, float* grad_bias) {
    kernel_->backward(g, input, grad_output, grad_input, grad_weight, grad_bias);
  });
  return grad_input_;
}

std::string Conv2d::implementation(const Shape& input) {
  return kernel_->implementation(geometry(input));
}

const RegisterLayers<Conv2d> kRegistered;

}  // namespace bdl::nn
