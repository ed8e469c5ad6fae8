#include "bdl/nn/pooling.h"

#include <algorithm>

#include "bdl/kernels/pooling.h"
#include "nn/dense.h"

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

Pool2d::Pool2d(bool average, Pool2dOptions options)
    : average_(average), options_(options), kernel_(std::make_unique<kernels::Pool2dKernel>()) {
  const char* what = average ? "AvgPool2d" : "MaxPool2d";
  options_.stride = options.stride.value_or(options.kernel);
  const Size2 stride = *options_.stride;
  BDL_CHECK(options_.kernel.h > 0 && options_.kernel.w > 0 && stride.h > 0 && stride.w > 0, what,
            ": kernel and stride must be positive");
  BDL_CHECK(options_.padding.h >= 0 && options_.padding.w >= 0 &&
                2 * options_.padding.h <= options_.kernel.h &&
                2 * options_.padding.w <= options_.kernel.w,
            what, ": padding must be between 0 and half the kernel");
}

Pool2d::~Pool2d() = default;

std::string Pool2d::describe() const {
  const Size2 stride = this->stride();
  std::string s = detail::concat(type(), "(", options_.kernel.h, "x", options_.kernel.w);
  if (stride != options_.kernel) s += detail::concat(", stride ", stride.h, "x", stride.w);
  if (options_.padding != Size2(0)) {
    s += detail::concat(", pad ", options_.padding.h, "x", options_.padding.w);
  }
  if (options_.ceil_mode) s += ", ceil";
  if (average_ && !options_.count_include_pad) s += ", padding not counted";
  return s + ")";
}

kernels::Pool2dGeometry Pool2d::geometry(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  kernels::Pool2dGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.in_height = input[2];
  g.in_width = input[3];
  g.kernel_h = options_.kernel.h;
  g.kernel_w = options_.kernel.w;
  g.stride_h = stride().h;
  g.stride_w = stride().w;
  g.pad_top = options_.padding.h;
  g.pad_left = options_.padding.w;
  BDL_CHECK(g.in_height + 2 * g.pad_top >= g.kernel_h && g.in_width + 2 * g.pad_left >= g.kernel_w,
            label(), ": input of shape ", shape_str(input), " is smaller than the ", g.kernel_h,
            "x", g.kernel_w, " window");
  g.pad_bottom =
      pooled_length(g.in_height, g.kernel_h, g.stride_h, g.pad_top, options_.ceil_mode).second;
  g.pad_right =
      pooled_length(g.in_width, g.kernel_w, g.stride_w, g.pad_left, options_.ceil_mode).second;
  if (!average_) {
    g.kind = kernels::PoolKind::max;
  } else {
    g.kind = options_.count_include_pad ? kernels::PoolKind::avg_include_padding
                                        : kernels::PoolKind::avg_exclude_padding;
  }
  return g;
}

Shape Pool2d::output_shape(const Shape& input) const {
  const auto g = geometry(input);
  return {g.batch, g.channels, g.out_height(), g.out_width()};
}

const std::vector<float>& Pool2d::divisor_fix(const kernels::Pool2dGeometry& g) {
  const bool clipped =
      g.pad_bottom > g.pad_top || g.pad_right > g.pad_left;  // ceil mode ran past the padding
  if (g.kind != kernels::PoolKind::avg_include_padding || !clipped) {
    fix_.clear();
    return fix_;
  }
  if (fix_key_ == g.key()) return fix_;
  fix_key_ = g.key();
  const int64_t oh = g.out_height(), ow = g.out_width();
  fix_.assign(static_cast<size_t>(oh * ow), 1.f);
  auto clipped_size = [](int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t in) {
    const int64_t start = o * stride - pad;
    return std::min(start + kernel, in + pad) - start;
  };
  for (int64_t y = 0; y < oh; ++y) {
    for (int64_t x = 0; x < ow; ++x) {
      const int64_t size = clipped_size(y, g.stride_h, g.pad_top, g.kernel_h, g.in_height) *
                           clipped_size(x, g.stride_w, g.pad_left, g.kernel_w, g.in_width);
      fix_[static_cast<size_t>(y * ow + x)] =
          static_cast<float>(g.kernel_h * g.kernel_w) / static_cast<float>(size);
    }
  }
  return fix_;
}

namespace {

// Multiplies each (n, c) plane of a plain (N, C, H, W) tensor by a per-position factor.
void scale_planes(Tensor& t, const std::vector<float>& factor) {
  const auto plane = static_cast<int64_t>(factor.size());
  float* v = t.f32();
  for (int64_t p = 0; p < t.numel() / plane; ++p) {
    for (int64_t i = 0; i < plane; ++i) v[p * plane + i] *= factor[static_cast<size_t>(i)];
  }
}

}  // namespace

const Tensor& Pool2d::forward(const Tensor& input) {
  const auto g = geometry(input.shape());
  const auto& fix = divisor_fix(g);
  if (fix.empty()) {
    kernel_->forward(g, input, output_, pass());
    return output_;
  }
  // The rare clipped case runs plain so that the factors apply position-wise.
  kernel_->forward(g, dense(input, dense_input_), output_, pass());
  if (!output_.is_contiguous()) output_ = output_.contiguous();
  scale_planes(output_, fix);
  return output_;
}

const Tensor& Pool2d::backward(const Tensor& input, const Tensor& grad_output) {
  return backward(input, grad_output, /*rectify=*/false);
}

const Tensor& Pool2d::backward_rectified(const Tensor& input, const Tensor& grad_output) {
  return backward(input, grad_output, /*rectify=*/true);
}

const Tensor& Pool2d::backward(const Tensor& input, const Tensor& grad_output, bool rectify) {
  const auto g = geometry(input.shape());
  check_grad_output(grad_output, {g.batch, g.channels, g.out_height(), g.out_width()});
  if (!needs_input_grad_) return grad_input_;
  const auto& fix = divisor_fix(g);
  if (fix.empty()) {
    kernel_->backward(g, input, grad_output, grad_input_, rectify);
    return grad_input_;
  }
  scaled_grad_.resize(grad_output.shape());
  scaled_grad_.copy_from(grad_output.is_plain() ? grad_output : grad_output.contiguous());
  scale_planes(scaled_grad_, fix);
  kernel_->backward(g, input, scaled_grad_, grad_input_, rectify);
  return grad_input_;
}

GlobalPool2d::GlobalPool2d(bool average)
    : average_(average), kernel_(std::make_unique<kernels::Pool2dKernel>()) {}
GlobalPool2d::~GlobalPool2d() = default;

kernels::Pool2dGeometry GlobalPool2d::geometry(const Shape& input) const {
  BDL_CHECK(input.size() == 4 && input[2] > 0 && input[3] > 0, label(),
            ": expected input (batch, channels, height, width), got ", shape_str(input));
  kernels::Pool2dGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.in_height = g.kernel_h = input[2];
  g.in_width = g.kernel_w = input[3];
  g.kind = average_ ? kernels::PoolKind::avg_exclude_padding : kernels::PoolKind::max;
  return g;
}

Shape GlobalPool2d::output_shape(const Shape& input) const {
  const auto g = geometry(input);
  return {g.batch, g.channels, 1, 1};
}

const Tensor& GlobalPool2d::forward(const Tensor& input) {
  kernel_->forward(geometry(input.shape()), input, output_, pass());
  return output_;
}

const Tensor& GlobalPool2d::backward(const Tensor& input, const Tensor& grad_output) {
  const auto g = geometry(input.shape());
  check_grad_output(grad_output, {g.batch, g.channels, 1, 1});
  if (!needs_input_grad_) return grad_input_;
  kernel_->backward(g, input, grad_output, grad_input_);
  return grad_input_;
}

const RegisterLayers<MaxPool2d, AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d> kRegistered;

}  // namespace bdl::nn
