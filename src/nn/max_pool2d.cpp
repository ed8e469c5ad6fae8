#include "bdl/nn/max_pool2d.h"

#include "kernels/pooling.h"

namespace bdl::nn {
namespace {

// Output length of one pooled dimension and the extra trailing padding that makes
// oneDNN produce it (ceil mode, PyTorch's rule: the last window starts inside).
std::pair<int64_t, int64_t> pooled_length(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                          bool ceil_mode) {
  const int64_t span = in + 2 * pad - kernel;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  const int64_t pad_end = (out - 1) * stride + kernel - in - pad;
  return {out, pad_end};
}

}  // namespace

MaxPool2d::MaxPool2d(MaxPool2dOptions options)
    : options_(options),
      stride_(options.stride.value_or(options.kernel)),
      kernel_(std::make_unique<kernels::Pool2dKernel>()) {
  BDL_CHECK(options_.kernel.h > 0 && options_.kernel.w > 0 && stride_.h > 0 && stride_.w > 0,
            "MaxPool2d: kernel and stride must be positive");
  BDL_CHECK(options_.padding.h >= 0 && options_.padding.w >= 0 &&
                2 * options_.padding.h <= options_.kernel.h &&
                2 * options_.padding.w <= options_.kernel.w,
            "MaxPool2d: padding must be between 0 and half the kernel");
}

MaxPool2d::~MaxPool2d() = default;

std::string MaxPool2d::describe() const {
  std::string s = detail::concat("MaxPool2d(", options_.kernel.h, "x", options_.kernel.w);
  if (stride_ != options_.kernel) s += detail::concat(", stride ", stride_.h, "x", stride_.w);
  if (options_.padding != Size2(0)) {
    s += detail::concat(", pad ", options_.padding.h, "x", options_.padding.w);
  }
  if (options_.ceil_mode) s += ", ceil";
  return s + ")";
}

kernels::Pool2dGeometry MaxPool2d::geometry(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  kernels::Pool2dGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.in_height = input[2];
  g.in_width = input[3];
  g.kernel_h = options_.kernel.h;
  g.kernel_w = options_.kernel.w;
  g.stride_h = stride_.h;
  g.stride_w = stride_.w;
  g.pad_top = options_.padding.h;
  g.pad_left = options_.padding.w;
  BDL_CHECK(g.in_height + 2 * g.pad_top >= g.kernel_h && g.in_width + 2 * g.pad_left >= g.kernel_w,
            label(), ": input of shape ", shape_str(input), " is smaller than the ", g.kernel_h,
            "x", g.kernel_w, " window");
  g.pad_bottom =
      pooled_length(g.in_height, g.kernel_h, g.stride_h, g.pad_top, options_.ceil_mode).second;
  g.pad_right =
      pooled_length(g.in_width, g.kernel_w, g.stride_w, g.pad_left, options_.ceil_mode).second;
  g.kind = kernels::PoolKind::max;
  return g;
}

Shape MaxPool2d::output_shape(const Shape& input) const {
  const auto g = geometry(input);
  return {g.batch, g.channels, g.out_height(), g.out_width()};
}

const Tensor& MaxPool2d::forward(const Tensor& input) {
  kernel_->forward(geometry(input.shape()), input, output_);
  return output_;
}

const Tensor& MaxPool2d::backward(const Tensor& input, const Tensor& grad_output) {
  const auto g = geometry(input.shape());
  const Shape expected{g.batch, g.channels, g.out_height(), g.out_width()};
  BDL_CHECK(grad_output.shape() == expected, label(), ": grad_output of shape ",
            grad_output.shape_str(), ", expected ", shape_str(expected));
  if (!needs_input_grad_) return grad_input_;
  kernel_->backward(g, grad_output, grad_input_);
  return grad_input_;
}

}  // namespace bdl::nn
