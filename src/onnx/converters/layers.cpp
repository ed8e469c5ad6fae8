// Convolutions, pooling, resizing, batch normalisation, LRN, dropout.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <optional>

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/softmax.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx::convert {

void conv(Context& c) {
  const Value& x = c.input(0);
  const Tensor& weight = c.constant_input(1, "the weight");
  if (weight.dim() != 4 && weight.dim() != 3) {
    c.unsupported(weight.dim() - 2, "-d convolution; bdl has the 1-d and 2-d forms");
  }
  const int64_t groups = c.integer("group", 1);
  if (groups < 1) c.invalid("group ", groups);
  const Shape wk(weight.shape().begin() + 2, weight.shape().end());
  const auto ks = c.integers("kernel_shape", wk);
  if (ks != wk) {
    c.invalid("kernel_shape ", shape_str(ks), " does not match the weight ", weight.shape_str());
  }
  if (x.shape.size() != weight.shape().size()) {
    c.invalid("input ", shape_str(x.shape), " and weight ", weight.shape_str(), " differ in rank");
  }
  const Window w = window(c, x.shape, ks);
  nn::Conv2dOptions o;
  o.in_channels = weight.shape()[1] * groups;
  o.out_channels = weight.shape()[0];
  o.kernel = {w.kh, w.kw};
  o.stride = {w.sh, w.sw};
  o.padding = {w.top, w.left};
  if (w.bottom != w.top || w.right != w.left) o.padding_end = nn::Size2{w.bottom, w.right};
  o.dilation = {w.dh, w.dw};
  o.groups = groups;
  o.bias = c.has_input(2);
  if (x.shape[1] != o.in_channels) {
    c.invalid("input has ", x.shape[1], " channels, the weight ", weight.shape_str(), " expects ",
              o.in_channels);
  }
  auto m = std::make_unique<nn::Conv2d>(o);
  copy_into(m->weight(), weight, c, "weight");
  if (o.bias) copy_into(m->bias(), c.constant_input(2, "the bias"), c, "bias");
  c.set_output(0, from_2d(c, c.add(std::move(m), {as_2d(c, x)}), x.shape.size()));
}

namespace {

// ConvTranspose's window per spatial axis, with pads before each axis then
// after each.
struct TransposedWindow {
  std::vector<int64_t> strides, dilations, out_pad, pads;
};

TransposedWindow transposed_window(Context& c, size_t spatial) {
  auto list = [&](const char* name, int64_t fallback, size_t count) {
    auto v = c.integers(name, std::vector<int64_t>(count, fallback));
    if (v.size() != count) c.invalid(name, " has ", v.size(), " entries, expected ", count);
    return v;
  };
  TransposedWindow w{list("strides", 1, spatial), list("dilations", 1, spatial),
                     list("output_padding", 0, spatial), list("pads", 0, 2 * spatial)};
  for (size_t i = 0; i < spatial; ++i) {
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.out_pad[i] < 0) {
      c.invalid("bad strides, dilations or output_padding");
    }
  }
  return w;
}

// output_shape and auto_pad resolve to paddings, and to output padding where
// the requested output is larger than the paddings allow.
void resolve_output_shape(Context& c, TransposedWindow& w, const Value& x, const Shape& kernel) {
  const size_t spatial = kernel.size();
  const std::string auto_pad = c.text("auto_pad", "NOTSET");
  std::vector<int64_t> out_shape = c.integers("output_shape", {});
  if (out_shape.size() > spatial) {
    out_shape.erase(out_shape.begin(), out_shape.end() - static_cast<int64_t>(spatial));
  }
  if (out_shape.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")) {
    for (size_t i = 0; i < spatial; ++i) out_shape.push_back(x.shape[2 + i] * w.strides[i]);
  }
  if (out_shape.empty()) return;
  if (out_shape.size() != spatial) c.invalid("output_shape of ", out_shape.size(), " entries");
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t total = w.strides[i] * (x.shape[2 + i] - 1) + w.out_pad[i] +
                          (kernel[i] - 1) * w.dilations[i] + 1 - out_shape[i];
    int64_t& before = w.pads[i];
    int64_t& after = w.pads[spatial + i];
    if (total < 0) {  // a larger output than any padding gives: extend the end
      w.out_pad[i] -= total;
      before = after = 0;
    } else if (auto_pad == "SAME_UPPER") {
      before = total / 2;
      after = total - total / 2;
    } else {
      before = total - total / 2;
      after = total / 2;
    }
  }
}

}  // namespace

void conv_transpose(Context& c) {
  const Value& x = c.input(0);
  const Tensor& weight = c.constant_input(1, "the weight");
  const size_t spatial = x.shape.size() - 2;
  if (x.shape.size() < 3 || x.shape.size() > 4 ||
      weight.dim() != static_cast<int64_t>(x.shape.size())) {
    c.unsupported(weight.dim() - 2, "-d transposed convolution; bdl has the 1-d and 2-d forms");
  }
  const int64_t groups = c.integer("group", 1);
  if (groups < 1) c.invalid("group ", groups);
  const Shape wk(weight.shape().begin() + 2, weight.shape().end());
  if (c.integers("kernel_shape", wk) != wk) c.invalid("kernel_shape does not match the weight");
  TransposedWindow w = transposed_window(c, spatial);
  resolve_output_shape(c, w, x, wk);
  for (int64_t p : w.pads) {
    if (p < 0) c.invalid("negative pad ", p);
  }
  // 1-d as 2-d of height 1.
  auto two = [&](const std::vector<int64_t>& v, size_t at, int64_t one) {
    return spatial == 1 ? nn::Size2{one, v[at]} : nn::Size2{v[at], v[at + 1]};
  };
  nn::ConvTranspose2dOptions o;
  o.in_channels = weight.shape()[0];
  o.out_channels = weight.shape()[1] * groups;
  o.kernel = spatial == 1 ? nn::Size2{1, wk[0]} : nn::Size2{wk[0], wk[1]};
  o.stride = two(w.strides, 0, 1);
  o.dilation = two(w.dilations, 0, 1);
  o.output_padding = two(w.out_pad, 0, 0);
  o.padding = two(w.pads, 0, 0);
  const nn::Size2 end = two(w.pads, spatial, 0);
  if (end != o.padding) o.padding_end = end;
  o.groups = groups;
  o.bias = c.has_input(2);
  if (x.shape[1] != o.in_channels) {
    c.invalid("input has ", x.shape[1], " channels, the weight ", weight.shape_str(), " expects ",
              o.in_channels);
  }
  if (o.output_padding.h >= std::max(o.stride.h, o.dilation.h) ||
      o.output_padding.w >= std::max(o.stride.w, o.dilation.w)) {
    c.unsupported("an output larger than stride and dilation allow");
  }
  auto m = std::make_unique<nn::ConvTranspose2d>(o);
  copy_into(m->weight(), weight, c, "weight");
  if (o.bias) copy_into(m->bias(), c.constant_input(2, "the bias"), c, "bias");
  c.set_output(0, from_2d(c, c.add(std::move(m), {as_2d(c, x)}), x.shape.size()));
}

// Resize (opsets 10+) and its predecessor Upsample: height and width of 4-d input,
// nearest or bilinear.
// Opset 18's additions: scales or sizes for the listed axes only (the others
// keep their size), the aspect-ratio policy (only "stretch", the default), and
// antialiasing, which changes nothing unless an axis shrinks.
void resize_opset18(Context& c, const Shape& in, std::vector<float>& scales,
                    std::vector<int64_t>& sizes) {
  const auto axes = c.integers("axes", {});
  if (!axes.empty()) {
    const size_t given = sizes.empty() ? scales.size() : sizes.size();
    if (given != axes.size()) c.invalid(given, " scales or sizes for ", axes.size(), " axes");
    std::vector<float> all_scales(in.size(), 1.f);
    Shape all_sizes = in;
    for (size_t i = 0; i < axes.size(); ++i) {
      const auto a = static_cast<size_t>(normalize_axis(c, axes[i], in.size()));
      if (sizes.empty()) {
        all_scales[a] = scales[i];
      } else {
        all_sizes[a] = sizes[i];
      }
    }
    if (sizes.empty()) {
      scales = all_scales;
    } else {
      sizes = all_sizes;
    }
  }
  const std::string policy = c.text("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch" && !sizes.empty())
    c.unsupported("keep_aspect_ratio_policy '", policy, "'");
  if (c.integer("antialias", 0) != 0) {
    bool shrinks = false;
    for (size_t d = 0; d < in.size(); ++d) {
      shrinks = shrinks || (sizes.empty() ? (d < scales.size() && scales[d] < 1.f)
                                          : (d < sizes.size() && sizes[d] < in[d]));
    }
    if (shrinks) c.unsupported("antialiased downscaling");
  }
}

void resize(Context& c) {
  const Value& x = c.input(0);
  const bool upsample = c.node().op_type() == "Upsample";
  if (x.shape.size() != 4)
    c.unsupported("resizing rank ", x.shape.size(), " input; bdl resizes (N, C, H, W)");
  const std::string mode = c.text("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "bilinear" && mode != "cubic") {
    c.invalid("unknown mode '", mode, "'");
  }
  nn::ResizeOptions o;
  o.mode = mode == "nearest" ? nn::ResizeMode::nearest
           : mode == "cubic" ? nn::ResizeMode::cubic
                             : nn::ResizeMode::linear;
  o.cubic_a = c.real("cubic_coeff_a", -0.75f);
  o.exclude_outside = c.integer("exclude_outside", 0) != 0;
  // Before opset 11 (and in Upsample) coordinates are asymmetric and nearest rounds down.
  const bool legacy = upsample || c.opset() < 11;
  o.coordinates = nn::ResizeCoordinates::asymmetric;
  o.rounding = nn::NearestRounding::floor;
  if (!legacy) {
    const std::string coords = c.text("coordinate_transformation_mode", "half_pixel");
    const auto coordinates = nn::fields::enum_value<nn::ResizeCoordinates>(coords);
    if (!coordinates) c.unsupported("coordinate_transformation_mode '", coords, "'");
    o.coordinates = *coordinates;
    const std::string nearest = c.text("nearest_mode", "round_prefer_floor");
    const auto rounding = nn::fields::enum_value<nn::NearestRounding>(nearest);
    if (!rounding) c.invalid("unknown nearest_mode '", nearest, "'");
    o.rounding = *rounding;
  }
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  if (upsample && c.opset() < 9) {
    scales = c.reals("scales", {});
  } else if (legacy) {
    scales = to_floats(c.constant_input(1, "scales"));
  } else {
    if (c.has_input(3)) sizes = c.integers_input(3, "sizes");
    if (c.has_input(2)) scales = to_floats(c.constant_input(2, "scales"));
    if (!sizes.empty()) scales.clear();
    resize_opset18(c, x.shape, scales, sizes);
  }
  if (!sizes.empty()) {
    if (sizes.size() != 4 || sizes[0] != x.shape[0] || sizes[1] != x.shape[1]) {
      c.unsupported("sizes ", shape_str(sizes), " that change more than height and width of ",
                    shape_str(x.shape));
    }
    o.height = sizes[2];
    o.width = sizes[3];
    if (o.height < 1 || o.width < 1) c.invalid("sizes ", shape_str(sizes));
  } else {
    if (scales.size() != 4) c.invalid(scales.size(), " scales for a rank 4 input");
    if (scales[0] != 1.f || scales[1] != 1.f)
      c.unsupported("scaling the batch or channel dimension");
    o.scale_h = scales[2];
    o.scale_w = scales[3];
    if (!(o.scale_h > 0) || !(o.scale_w > 0)) c.invalid("scales must be positive");
  }
  unary(c, make<nn::Resize>(o));
}

void pool(Context& c, bool average) {
  const Value& x = c.input(0);
  if (c.output_used(1)) c.unsupported("the indices output");
  const auto ks = c.integers("kernel_shape", {});
  Window w = window(c, x.shape, ks);
  if (w.dh != 1 || w.dw != 1) c.unsupported("dilated pooling");
  const bool ceil_mode = c.integer("ceil_mode", 0) != 0;
  const bool include_pad = average && c.integer("count_include_pad", 0) != 0;
  Value in = as_2d(c, x);
  const Shape in2 = in.shape;
  const bool symmetric = w.top == w.bottom && w.left == w.right;
  // Padding bdl's pools take: symmetric, at most half the window.
  const bool direct = symmetric && w.top * 2 <= w.kh && w.left * 2 <= w.kw;
  // Averages that leave padding out of the count, over padding the pool cannot
  // take: zero-pad, average counting everything, then scale each position by
  // kernel size / real elements (a constant map computed now from the shape).
  std::optional<Tensor> rescale;
  if (!direct) {
    if (ceil_mode) c.unsupported("ceil_mode with asymmetric or wide padding");
    if (average && !include_pad) {
      const int64_t h = in2[2], wd = in2[3];
      const int64_t oh = (h + w.top + w.bottom - w.kh) / w.sh + 1;
      const int64_t ow = (wd + w.left + w.right - w.kw) / w.sw + 1;
      Tensor factor = Tensor::zeros({1, 1, std::max<int64_t>(oh, 0), std::max<int64_t>(ow, 0)});
      float* f = factor.f32();
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j) {
          const int64_t r0 = std::max<int64_t>(i * w.sh - w.top, 0);
          const int64_t r1 = std::min<int64_t>(i * w.sh - w.top + w.kh, h);
          const int64_t c0 = std::max<int64_t>(j * w.sw - w.left, 0);
          const int64_t c1 = std::min<int64_t>(j * w.sw - w.left + w.kw, wd);
          const int64_t n = std::max<int64_t>(r1 - r0, 0) * std::max<int64_t>(c1 - c0, 0);
          f[i * ow + j] = n > 0 ? static_cast<float>(w.kh * w.kw) / static_cast<float>(n) : 0.f;
        }
      }
      rescale = std::move(factor);
    }
    in = c.add(make<nn::Pad>(std::vector<int64_t>{0, 0, w.top, w.left, 0, 0, w.bottom, w.right},
                             nn::PadMode::constant, average ? 0.f : -FLT_MAX),
               {in});
    w.top = w.left = w.bottom = w.right = 0;
  }
  nn::Pool2dOptions o;
  o.kernel = {w.kh, w.kw};
  o.stride = nn::Size2{w.sh, w.sw};
  o.padding = {w.top, w.left};
  o.ceil_mode = ceil_mode;
  o.count_include_pad = include_pad || !direct;
  Value y = average ? c.add(make<nn::AvgPool2d>(o), {in}) : c.add(make<nn::MaxPool2d>(o), {in});
  if (rescale) y = binary(c, nn::BinaryOp::mul, y, Context::constant(std::move(*rescale)));
  c.set_output(0, from_2d(c, y, x.shape.size()));
}

void global_pool(Context& c, bool average) {
  const Value& x = c.input(0);
  if (x.shape.size() < 3) c.invalid("global pooling of a rank ", x.shape.size(), " input");
  if (x.shape.size() != 4) {
    // 1-d and 3-d: a reduction over the spatial axes, kept as size 1.
    std::vector<int64_t> axes;
    for (size_t d = 2; d < x.shape.size(); ++d) axes.push_back(static_cast<int64_t>(d));
    unary(c, make<nn::Reduce>(average ? nn::ReduceOp::mean : nn::ReduceOp::max, axes, true));
    return;
  }
  if (average) {
    unary(c, make<nn::GlobalAvgPool2d>());
  } else {
    unary(c, make<nn::GlobalMaxPool2d>());
  }
}

void batch_norm(Context& c) {
  if (c.integer("training_mode", 0) != 0) c.unsupported("training_mode=1");
  if (c.opset() < 9 && c.integer("spatial", 1) == 0) c.unsupported("spatial=0");
  for (size_t i = 1; i < 5; ++i) {
    if (c.output_used(i)) c.unsupported("output ", i, " (training statistics)");
  }
  const Value& x = c.input(0);
  const Tensor& scale = c.constant_input(1, "scale");
  if (x.shape.size() < 2) c.invalid("input of shape ", shape_str(x.shape), " has no channels");
  nn::BatchNormOptions o;
  o.num_features = x.shape[1];
  o.eps = c.real("epsilon", 1e-5f);
  o.momentum = 1.f - c.real("momentum", 0.9f);
  if (scale.numel() != o.num_features) {
    c.invalid("scale has ", scale.numel(), " entries for ", o.num_features, " channels");
  }
  auto m = std::make_unique<nn::BatchNorm>(o);
  copy_into(m->weight(), scale, c, "scale");
  copy_into(m->bias(), c.constant_input(2, "B"), c, "B");
  copy_into(m->running_mean(), c.constant_input(3, "mean"), c, "mean");
  copy_into(m->running_var(), c.constant_input(4, "var"), c, "var");
  m->eval();
  // Statistics are per channel whatever the spatial shape: rank 5 and up as 4-d.
  if (x.shape.size() > 4) {
    const int64_t rest = shape_numel(x.shape) / std::max<int64_t>(x.shape[0] * x.shape[1], 1);
    const int batch = x.batch_axis == 0 ? 0 : -1;
    const Value flat = reshape_to(c, x, {x.shape[0], x.shape[1], rest, 1}, batch);
    c.set_output(0, reshape_to(c, c.add(std::move(m), {flat}), x.shape, batch));
    return;
  }
  c.set_output(0, c.add(std::move(m), {x}));
}

void lrn(Context& c) {
  nn::LrnOptions o;
  o.size = c.integer("size", 0);
  if (o.size < 1) c.invalid("size ", o.size);
  if (o.size % 2 == 0) c.unsupported("an even LRN size (", o.size, ")");
  o.alpha = c.real("alpha", 1e-4f);
  o.beta = c.real("beta", 0.75f);
  o.k = c.real("bias", 1.f);
  unary(c, make<nn::LRN>(o));
}

void dropout(Context& c) {
  if (c.output_used(1)) c.unsupported("the mask output");
  float ratio = c.real("ratio", 0.5f);
  if (c.opset() >= 12) {
    ratio = c.has_input(1) ? to_floats(c.constant_input(1, "ratio")).at(0) : 0.5f;
    if (c.has_input(2) && to_integers(c.constant_input(2, "training_mode")).at(0) != 0) {
      c.unsupported("training_mode=true");
    }
  }
  auto m = make<nn::Dropout>(ratio);
  m->eval();
  unary(c, std::move(m));
}

}  // namespace bdl::onnx::convert
