// One converter per ONNX operator: reads the node's attributes and inputs (by
// opset where the operator changed) and adds the bdl modules that compute it.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/shape_ops.h"
#include "bdl/nn/softmax.h"
#include "onnx/context.h"
#include "onnx/recurrent.h"

namespace bdl::onnx {
namespace {

using nn::Module;
template <typename M, typename... Args>
std::unique_ptr<Module> make(Args&&... args) {
  return std::make_unique<M>(std::forward<Args>(args)...);
}

int64_t normalize_axis(Context& c, int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) c.invalid("axis ", axis, " is out of range for rank ", r);
  return axis < 0 ? axis + r : axis;
}

// The single data input as a graph value or constant, and one module on it.
void unary(Context& c, std::unique_ptr<Module> m) { c.set_output(0, c.add(std::move(m), {c.input(0)})); }

void copy_into(Tensor& dst, const Tensor& src, Context& c, const char* what) {
  if (dst.shape() != src.shape() && dst.numel() == src.numel()) {
    dst.copy_from(src.contiguous().view(dst.shape()));
    return;
  }
  if (dst.shape() != src.shape()) {
    c.invalid(what, " has shape ", src.shape_str(), ", expected ", dst.shape_str());
  }
  if (src.dtype() != DType::f32) c.invalid(what, " is not float32");
  dst.copy_from(src);
}

// Reshapes a value to `out`, whose dimension `out_batch` (-1: none) is the
// batch: written as -1 (or kept, by Reshape, when it stays first) so that the
// graph runs on other batch sizes than the import's.
Value reshape_to(Context& c, const Value& v, const Shape& out, int out_batch) {
  if (v.shape == out && v.batch_axis == out_batch) return v;
  if (v.is_constant()) return c.add(make<nn::View>(out), {v});
  Value r;
  if (out_batch == 0 && v.batch_axis == 0 && out[0] == v.shape[0]) {
    r = c.add(make<nn::Reshape>(Shape(out.begin() + 1, out.end())), {v}, true);
  } else if (out_batch >= 0 && v.batch_axis >= 0) {
    Shape dynamic = out;
    dynamic[static_cast<size_t>(out_batch)] = -1;
    r = c.add(make<nn::View>(dynamic), {v}, true);
  } else {
    r = c.add(make<nn::View>(out), {v}, true);
  }
  r.batch_axis = v.batch_axis >= 0 ? out_batch : -1;
  r.batch_merged = r.batch_axis >= 0 &&
                   (v.batch_merged || out[static_cast<size_t>(out_batch)] !=
                                          v.shape[static_cast<size_t>(v.batch_axis)]);
  r.integer = v.integer;  // a reshape moves ids without computing on them
  return r;
}

// Where the batch dimension of `in` lands in `out` when a reshape keeps the
// dimensions before it: the output dimension whose leading product matches.
int reshaped_batch_axis(const Value& v, const Shape& out) {
  const Shape& in = v.shape;
  const int batch_axis = v.batch_axis;
  if (batch_axis < 0 || v.batch_merged) return -1;
  const int64_t before = shape_numel(std::span(in).first(static_cast<size_t>(batch_axis)));
  int64_t prefix = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    if (prefix == before && out[k] == in[static_cast<size_t>(batch_axis)]) return static_cast<int>(k);
    prefix *= out[k];
    if (prefix > before) return -1;
  }
  return -1;
}

Value binary_nodes(Context& c, nn::BinaryOp op, const Value& a, const Value& b) {
  if (a.is_constant() && b.is_constant()) {
    auto m = make<nn::Binary>(op);
    return c.add(std::move(m), {a, b});
  }
  if (a.is_constant() || b.is_constant()) {
    const Value& k = a.is_constant() ? a : b;
    // An integer constant: only as an exponent (Pow's only mixed types), where its
    // float value computes the same; anywhere else the result would be integer.
    if (k.constant.dtype() != DType::f32 && (op != nn::BinaryOp::pow || a.is_constant())) {
      c.unsupported("an integer operand where the result is integer");
    }
    auto m = std::make_unique<nn::Binary>(op, k.shape, a.is_constant(), k.initializer);
    if (k.constant.dtype() == DType::f32) {
      m->constant().copy_from(k.constant);
    } else {
      const auto v = to_floats(k.constant);
      std::copy(v.begin(), v.end(), m->constant().f32());
    }
    return c.add(std::move(m), {a.is_constant() ? b : a});
  }
  if (op == nn::BinaryOp::add && a.shape == b.shape) {
    // Same shapes (a residual connection): Add works in the layout the
    // convolutions leave, where Binary would convert both to plain.
    return c.add(make<nn::Add>(), {a, b});
  }
  return c.add(make<nn::Binary>(op), {a, b});
}

// A binary operation of two values, either possibly constant. A constant
// operand becomes the module's own tensor: trainable when it is an initializer.
// Broadcasting to a higher rank moves the batch dimension right.
Value binary(Context& c, nn::BinaryOp op, const Value& a, const Value& b) {
  Value y = binary_nodes(c, op, a, b);
  if (y.is_constant()) return y;
  y.batch_axis = -1;
  for (const Value* v : {&a, &b}) {
    if (!v->is_constant() && v->batch_axis >= 0) {
      y.batch_axis = v->batch_axis + static_cast<int>(y.shape.size() - v->shape.size());
      y.batch_merged = v->batch_merged;
      break;
    }
  }
  return y;
}

void binary_op(Context& c, nn::BinaryOp op) {
  Value b = c.input(1);
  // Opset < 7: broadcasting only when asked, aligned at `axis` rather than the right.
  if (c.opset() < 7 && c.integer("broadcast", 0) != 0 && c.has_attribute("axis")) {
    const size_t rank = c.input(0).shape.size();
    const int64_t axis = normalize_axis(c, c.integer("axis", 0), rank);
    Shape s = b.shape;
    while (s.size() + static_cast<size_t>(axis) < rank) s.push_back(1);
    if (b.is_constant()) {
      const bool init = b.initializer;
      b = Context::constant(b.constant.contiguous().view(s));
      b.initializer = init;
    } else {
      b = reshape_to(c, b, s, -1);
    }
  }
  c.set_output(0, binary(c, op, c.input(0), b));
}

void variadic(Context& c, nn::BinaryOp op, bool mean) {
  Value acc = c.input(0);
  for (size_t i = 1; i < c.input_count(); ++i) acc = binary(c, op, acc, c.input(i));
  if (mean && c.input_count() > 1) {
    acc = binary(c, nn::BinaryOp::mul, acc,
                 Context::constant(Tensor::full({}, 1.f / static_cast<float>(c.input_count()))));
  }
  if (c.input_count() == 1) {
    acc = c.add(make<nn::Identity>(), {acc});
  }
  c.set_output(0, acc);
}

void unary_fn(Context& c, nn::UnaryOp op, float alpha = 0, float beta = 0) {
  unary(c, make<nn::Unary>(op, alpha, beta));
}

// Spatial 2-d attributes of Conv and the pools: kernel, strides, pads (top,
// left, bottom, right), dilations; auto_pad resolved against the input size.
struct Window {
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t top, left, bottom, right;
};

// A 1-d window (input (N, C, L)) is the 2-d one of height 1 on (N, C, 1, L).
Window window(Context& c, const Shape& input, const std::vector<int64_t>& kernel) {
  const size_t spatial = input.size() - 2;
  if (input.size() < 3 || input.size() > 4 || kernel.size() != spatial) {
    c.unsupported(input.size() < 2 ? 0 : input.size() - 2, "-d ", c.node().op_type(), " (input ",
                  shape_str(input), "); bdl has the 1-d and 2-d forms");
  }
  const bool one_d = spatial == 1;
  auto list = [&](const char* name, int64_t fallback, size_t count) {
    auto v = c.integers(name, std::vector<int64_t>(count, fallback));
    if (v.size() != count) c.invalid(name, " has ", v.size(), " entries, expected ", count);
    if (one_d) v.insert(v.begin() + static_cast<int64_t>(count / 2), fallback);
    return v;
  };
  const auto strides = list("strides", 1, spatial);
  const auto dilations = list("dilations", 1, spatial);
  Window w{one_d ? 1 : kernel[0], kernel.back(), strides[0], strides[1], dilations[0],
           dilations[1], 0, 0, 0, 0};
  if (w.sh < 1 || w.sw < 1 || w.dh < 1 || w.dw < 1 || w.kh < 1 || w.kw < 1) {
    c.invalid("kernel, strides and dilations must be positive");
  }
  const std::string auto_pad = c.text("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    auto pads = c.integers("pads", std::vector<int64_t>(2 * spatial, 0));
    if (pads.size() != 2 * spatial) c.invalid("pads has ", pads.size(), " entries, expected ", 2 * spatial);
    for (int64_t p : pads) {
      if (p < 0) c.invalid("negative pad ", p);
    }
    if (one_d) pads = {0, pads[0], 0, pads[1]};
    w.top = pads[0];
    w.left = pads[1];
    w.bottom = pads[2];
    w.right = pads[3];
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& begin, int64_t& end) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    if (!one_d) same(input[2], w.kh, w.sh, w.dh, w.top, w.bottom);
    same(input.back(), w.kw, w.sw, w.dw, w.left, w.right);
  } else if (auto_pad != "VALID") {
    c.invalid("unknown auto_pad '", auto_pad, "'");
  }
  return w;
}

// (N, C, L) as (N, C, 1, L) for the 2-d layers; 4-d values pass through.
Value as_2d(Context& c, const Value& x) {
  if (x.shape.size() != 3) return x;
  return reshape_to(c, x, {x.shape[0], x.shape[1], 1, x.shape[2]}, x.batch_axis == 0 ? 0 : -1);
}
Value from_2d(Context& c, const Value& y, size_t rank) {
  if (rank != 3) return y;
  return reshape_to(c, y, {y.shape[0], y.shape[1], y.shape[3]}, y.batch_axis == 0 ? 0 : -1);
}

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

// ConvTranspose: output_shape and auto_pad resolve to paddings (and output
// padding where the requested output is larger than the paddings allow).
void conv_transpose(Context& c) {
  const Value& x = c.input(0);
  const Tensor& weight = c.constant_input(1, "the weight");
  const size_t spatial = x.shape.size() - 2;
  if (x.shape.size() < 3 || x.shape.size() > 4 || weight.dim() != static_cast<int64_t>(x.shape.size())) {
    c.unsupported(weight.dim() - 2, "-d transposed convolution; bdl has the 1-d and 2-d forms");
  }
  const int64_t groups = c.integer("group", 1);
  if (groups < 1) c.invalid("group ", groups);
  const Shape wk(weight.shape().begin() + 2, weight.shape().end());
  if (c.integers("kernel_shape", wk) != wk) c.invalid("kernel_shape does not match the weight");
  auto list = [&](const char* name, int64_t fallback, size_t count) {
    auto v = c.integers(name, std::vector<int64_t>(count, fallback));
    if (v.size() != count) c.invalid(name, " has ", v.size(), " entries, expected ", count);
    return v;
  };
  auto strides = list("strides", 1, spatial);
  auto dilations = list("dilations", 1, spatial);
  auto out_pad = list("output_padding", 0, spatial);
  auto pads = list("pads", 0, 2 * spatial);
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || out_pad[i] < 0) c.invalid("bad strides, dilations or output_padding");
  }
  const std::string auto_pad = c.text("auto_pad", "NOTSET");
  std::vector<int64_t> out_shape = c.integers("output_shape", {});
  if (out_shape.size() > spatial) out_shape.erase(out_shape.begin(), out_shape.end() - static_cast<int64_t>(spatial));
  if (out_shape.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")) {
    for (size_t i = 0; i < spatial; ++i) out_shape.push_back(x.shape[2 + i] * strides[i]);
  }
  if (!out_shape.empty()) {
    if (out_shape.size() != spatial) c.invalid("output_shape of ", out_shape.size(), " entries");
    for (size_t i = 0; i < spatial; ++i) {
      const int64_t total = strides[i] * (x.shape[2 + i] - 1) + out_pad[i] +
                            (wk[i] - 1) * dilations[i] + 1 - out_shape[i];
      if (total < 0) {  // a larger output than any padding gives: extend the end
        out_pad[i] -= total;
        pads[i] = pads[spatial + i] = 0;
      } else if (auto_pad == "SAME_UPPER") {
        pads[i] = total / 2;
        pads[spatial + i] = total - total / 2;
      } else {
        pads[i] = total - total / 2;
        pads[spatial + i] = total / 2;
      }
    }
  }
  for (int64_t p : pads) {
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
  o.stride = two(strides, 0, 1);
  o.dilation = two(dilations, 0, 1);
  o.output_padding = two(out_pad, 0, 0);
  o.padding = two(pads, 0, 0);
  const nn::Size2 end = two(pads, spatial, 0);
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
void resize(Context& c) {
  const Value& x = c.input(0);
  const bool upsample = c.node().op_type() == "Upsample";
  if (x.shape.size() != 4) c.unsupported("resizing rank ", x.shape.size(), " input; bdl resizes (N, C, H, W)");
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
    const auto coordinates = nn::resize_coordinates_from(coords);
    if (!coordinates) c.unsupported("coordinate_transformation_mode '", coords, "'");
    o.coordinates = *coordinates;
    const std::string nearest = c.text("nearest_mode", "round_prefer_floor");
    const auto rounding = nn::nearest_rounding_from(nearest);
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
    if (scales[0] != 1.f || scales[1] != 1.f) c.unsupported("scaling the batch or channel dimension");
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
  if (x.shape.size() != 4) c.unsupported("global pooling of rank ", x.shape.size(), " input");
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

void gemm(Context& c) {
  Value a = c.input(0);
  const float alpha = c.real("alpha", 1.f);
  const float beta = c.real("beta", 1.f);
  const bool trans_a = c.integer("transA", 0) != 0;
  const bool trans_b = c.integer("transB", 0) != 0;
  if (a.shape.size() != 2) c.invalid("A has shape ", shape_str(a.shape), ", expected a matrix");
  if (trans_a) a = c.add(make<nn::Transpose>(std::vector<int64_t>{1, 0}), {a});
  const Value& b = c.input(1);
  if (b.shape.size() != 2) c.invalid("B has shape ", shape_str(b.shape), ", expected a matrix");
  const int64_t k = a.shape[1];
  const int64_t n = trans_b ? b.shape[0] : b.shape[1];
  if ((trans_b ? b.shape[1] : b.shape[0]) != k) {
    c.invalid("A ", shape_str(a.shape), " and B ", shape_str(b.shape), " do not multiply");
  }
  std::optional<Value> bias = c.has_input(2) ? std::optional<Value>(c.input(2)) : std::nullopt;
  Value y;
  bool bias_done = !bias.has_value() || beta == 0.f;
  if (b.is_constant()) {
    const bool vector_bias = bias && bias->is_constant() &&
                             (bias->constant.numel() == n || bias->constant.numel() == 1) &&
                             (bias->shape.empty() || bias->shape.back() == n ||
                              bias->constant.numel() == 1) &&
                             bias->shape.size() <= 2 &&
                             (bias->shape.size() < 2 || bias->shape[0] == 1);
    auto m = std::make_unique<nn::Linear>(k, n, vector_bias && !bias_done);
    const Tensor bt = b.constant.contiguous();
    const float* pb = bt.f32();
    float* w = m->weight().f32();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) w[i * k + j] = alpha * (trans_b ? pb[i * k + j] : pb[j * n + i]);
    }
    if (vector_bias && !bias_done) {
      const auto values = to_floats(bias->constant);
      float* pbias = m->bias().f32();
      for (int64_t i = 0; i < n; ++i) pbias[i] = beta * values[values.size() == 1 ? 0 : i];
      bias_done = true;
    }
    y = c.add(std::move(m), {a});
  } else {
    Value bb = trans_b ? c.add(make<nn::Transpose>(std::vector<int64_t>{1, 0}), {b}) : b;
    y = c.add(make<nn::MatMul>(), {a, bb});
    if (alpha != 1.f) y = binary(c, nn::BinaryOp::mul, y, Context::constant(Tensor::full({}, alpha)));
  }
  if (!bias_done) {
    Value cb = *bias;
    if (beta != 1.f && cb.is_constant()) {
      Tensor scaled = cb.constant.contiguous().clone();
      for (float& v : scaled.span_f32()) v *= beta;
      cb = Context::constant(std::move(scaled));
      cb.initializer = bias->initializer;
    } else if (beta != 1.f) {
      cb = binary(c, nn::BinaryOp::mul, cb, Context::constant(Tensor::full({}, beta)));
    }
    y = binary(c, nn::BinaryOp::add, y, cb);
  }
  c.set_output(0, y);
}

void matmul(Context& c) {
  const Value& a = c.input(0);
  const Value& b = c.input(1);
  if (b.is_constant() && !a.is_constant()) {
    auto m = std::make_unique<nn::MatMul>(b.shape);
    copy_into(m->weight(), b.constant, c, "B");
    c.set_output(0, c.add(std::move(m), {a}));
    return;
  }
  if (a.is_constant() && !b.is_constant()) {
    c.unsupported("a constant left operand (bdl's MatMul owns its right operand)");
  }
  c.set_output(0, c.add(make<nn::MatMul>(), {a, b}));
}

void softmax(Context& c, bool log) {
  const Value& x = c.input(0);
  const size_t rank = x.shape.size();
  const int64_t axis = normalize_axis(c, c.integer("axis", c.opset() < 13 ? 1 : -1), rank);
  auto make_softmax = [&](int64_t dim) -> std::unique_ptr<Module> {
    if (log) return make<nn::LogSoftMax>(dim);
    return make<nn::SoftMax>(dim);
  };
  if (c.opset() >= 13 || axis == static_cast<int64_t>(rank) - 1) {
    c.set_output(0, c.add(make_softmax(axis), {x}));
    return;
  }
  // Before opset 13: over all dimensions from axis on, as one flattened row.
  const int64_t rows = shape_numel(std::span(x.shape).first(static_cast<size_t>(axis)));
  const int batch = x.batch_axis < 0 ? -1 : (x.batch_axis < axis ? 0 : 1);
  Value v = reshape_to(c, x, {rows, shape_numel(x.shape) / std::max<int64_t>(rows, 1)}, batch);
  v = c.add(make_softmax(1), {v});
  c.set_output(0, reshape_to(c, v, x.shape, x.batch_axis));
}

void flatten(Context& c) {
  const Value& x = c.input(0);
  const int64_t axis = c.integer("axis", 1);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (axis < -rank || axis > rank) c.invalid("axis ", axis, " for rank ", rank);
  const int64_t a = axis < 0 ? axis + rank : axis;
  const int64_t outer = shape_numel(std::span(x.shape).first(static_cast<size_t>(a)));
  const int64_t inner = shape_numel(std::span(x.shape).subspan(static_cast<size_t>(a)));
  // The batch merges into whichever side holds it; -1 there infers it.
  const int batch = x.batch_axis < 0 ? -1 : (x.batch_axis < a ? 0 : 1);
  c.set_output(0, reshape_to(c, x, {outer, inner}, batch));
}

void reshape(Context& c) {
  const Value& x = c.input(0);
  std::vector<int64_t> target =
      c.opset() < 5 ? c.integers("shape", {}) : c.integers_input(1, "the target shape");
  const bool allow_zero = c.integer("allowzero", 0) != 0;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allow_zero) {
      if (i >= x.shape.size()) c.invalid("shape entry 0 at ", i, " beyond the input's rank");
      target[i] = x.shape[i];
    }
    if (target[i] == -1) {
      if (infer >= 0) c.invalid("more than one -1 in the target shape");
      infer = static_cast<int>(i);
    } else if (target[i] < 0) {
      c.invalid("target shape entry ", target[i]);
    } else {
      if (target[i] > 0 && known > (int64_t{1} << 62) / target[i]) {
        c.invalid("target shape ", shape_str(target), " is too large");
      }
      known *= target[i];
    }
  }
  const int64_t total = shape_numel(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      c.invalid("cannot reshape ", shape_str(x.shape), " to ", shape_str(target));
    }
    target[static_cast<size_t>(infer)] = total / known;
  }
  if (shape_numel(target) != total) {
    c.invalid("cannot reshape ", shape_str(x.shape), " to ", shape_str(target));
  }
  const int batch = reshaped_batch_axis(x, target);
  if (batch < 0 && infer >= 0 && x.batch_axis >= 0 && !x.is_constant()) {
    // The batch merges with other dimensions: where the model asked for -1 it
    // stays -1, which takes whatever batch size comes.
    Shape dynamic = target;
    dynamic[static_cast<size_t>(infer)] = -1;
    Value y = c.add(make<nn::View>(dynamic), {x}, true);
    y.batch_axis = infer;
    y.batch_merged = true;
    y.integer = x.integer;
    c.set_output(0, y);
    return;
  }
  c.set_output(0, reshape_to(c, x, target, batch));
}

std::vector<int64_t> axes_of(Context& c, size_t input) {
  if (c.opset() >= 13) return c.has_input(input) ? c.integers_input(input, "axes") : std::vector<int64_t>{};
  return c.integers("axes", {});
}

void squeeze(Context& c) {
  const Value& x = c.input(0);
  const auto axes = axes_of(c, 1);
  std::vector<bool> drop(x.shape.size(), false);
  if (axes.empty()) {
    for (size_t d = 0; d < x.shape.size(); ++d) drop[d] = x.shape[d] == 1;
  }
  for (int64_t a : axes) {
    const auto d = static_cast<size_t>(normalize_axis(c, a, x.shape.size()));
    if (x.shape[d] != 1) c.invalid("cannot squeeze dimension ", a, " of ", shape_str(x.shape));
    drop[d] = true;
  }
  Shape out;
  int batch = -1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (drop[d]) continue;
    if (static_cast<int>(d) == x.batch_axis) batch = static_cast<int>(out.size());
    out.push_back(x.shape[d]);
  }
  c.set_output(0, reshape_to(c, x, out, batch));
}

void unsqueeze(Context& c) {
  const Value& x = c.input(0);
  const auto axes = axes_of(c, 1);
  const size_t rank = x.shape.size() + axes.size();
  std::vector<bool> added(rank, false);
  for (int64_t a : axes) {
    const auto d = static_cast<size_t>(normalize_axis(c, a, rank));
    if (added[d]) c.invalid("axis ", a, " given twice");
    added[d] = true;
  }
  Shape out;
  size_t next = 0;
  int batch = -1;
  for (size_t d = 0; d < rank; ++d) {
    if (!added[d] && static_cast<int>(next) == x.batch_axis) batch = static_cast<int>(d);
    out.push_back(added[d] ? 1 : x.shape[next++]);
  }
  c.set_output(0, reshape_to(c, x, out, batch));
}

void transpose(Context& c) {
  const Value& x = c.input(0);
  std::vector<int64_t> reversed(x.shape.size());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  auto perm = c.integers("perm", reversed);
  for (auto& p : perm) p = normalize_axis(c, p, x.shape.size());
  if (perm.size() != x.shape.size()) c.invalid("perm ", shape_str(perm), " for rank ", x.shape.size());
  std::vector<int64_t> identity(perm.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (perm == identity) {
    c.set_output(0, x);
    return;
  }
  Value y = c.add(make<nn::Transpose>(perm), {x});
  y.batch_axis = -1;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] == x.batch_axis) y.batch_axis = static_cast<int>(i);
  }
  c.set_output(0, y);
}

void gather(Context& c) {
  const Value& x = c.input(0);
  const Value& index = c.input(1);
  if (x.is_constant() && !index.is_constant()) {
    // A lookup table indexed at run time: an embedding (ids arrive as float32).
    const int64_t axis = c.integer("axis", 0);
    if (x.shape.size() != 2 || (axis != 0 && axis != -2)) {
      c.unsupported("a run-time index into a table of shape ", shape_str(x.shape),
                    " along axis ", axis, " (bdl's Embedding looks up rows of a matrix)");
    }
    if (x.constant.dtype() != DType::f32) c.unsupported("an integer lookup table");
    auto m = std::make_unique<nn::Embedding>(
        nn::EmbeddingOptions{.num_embeddings = x.shape[0], .embedding_dim = x.shape[1]});
    copy_into(m->weight(), x.constant, c, "the table");
    Value y = c.add(std::move(m), {index}, /*takes_integers=*/true);
    y.batch_axis = index.batch_axis;
    c.set_output(0, y);
    return;
  }
  const Tensor& idx = c.constant_input(1, "the indices");
  auto indices = to_integers(idx);
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  Value y = c.add(make<nn::Gather>(axis, std::move(indices), idx.shape()), {x});
  y.batch_axis = x.batch_axis < 0 || x.batch_axis == axis ? -1
                 : x.batch_axis < axis ? x.batch_axis
                                       : x.batch_axis + static_cast<int>(idx.dim()) - 1;
  c.set_output(0, y);
}

void concat(Context& c) {
  std::vector<Value> from;
  for (size_t i = 0; i < c.input_count(); ++i) {
    if (c.has_input(i)) from.push_back(c.input(i));
  }
  if (from.empty()) c.invalid("no inputs");
  const int64_t axis = normalize_axis(c, c.integer("axis", 1), from[0].shape.size());
  // Empty inputs add nothing.
  std::vector<Value> kept;
  for (const auto& v : from) {
    if (shape_numel(v.shape) > 0 || from.size() == 1) kept.push_back(v);
  }
  if (kept.empty()) kept.push_back(from[0]);
  if (kept.size() == 1) {
    c.set_output(0, kept[0].is_constant() ? kept[0] : c.add(make<nn::Identity>(), {kept[0]}));
    return;
  }
  c.set_output(0, c.add(make<nn::JoinTable>(axis), kept));
}

void split(Context& c) {
  const Value& x = c.input(0);
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  std::vector<int64_t> sizes = c.opset() >= 13 ? (c.has_input(1) ? c.integers_input(1, "split")
                                                                  : std::vector<int64_t>{})
                                               : c.integers("split", {});
  const auto outputs = static_cast<int64_t>(c.node().output_size());
  const int64_t n = x.shape[static_cast<size_t>(axis)];
  if (sizes.empty()) {
    const int64_t parts = c.integer("num_outputs", outputs);
    const int64_t each = (n + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::min(each, n - i * each));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs) {
    c.invalid(sizes.size(), " split sizes for ", outputs, " outputs");
  }
  int64_t start = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    const int64_t s = sizes[static_cast<size_t>(i)];
    if (c.output_used(static_cast<size_t>(i))) {
      c.set_output(static_cast<size_t>(i),
                   c.add(make<nn::Slice>(std::vector<int64_t>{axis}, std::vector<int64_t>{start},
                                         std::vector<int64_t>{start + s}, std::vector<int64_t>{1}),
                         {x}));
    }
    start += s;
  }
  if (start != n) c.invalid("split sizes sum to ", start, ", the axis has ", n);
}

void slice(Context& c) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.integers("starts", {});
    ends = c.integers("ends", {});
    axes = c.integers("axes", {});
  } else {
    starts = c.integers_input(1, "starts");
    ends = c.integers_input(2, "ends");
    if (c.has_input(3)) axes = c.integers_input(3, "axes");
    if (c.has_input(4)) steps = c.integers_input(4, "steps");
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(axes.size(), 1);
  unary(c, make<nn::Slice>(axes, starts, ends, steps));
}

void pad(Context& c) {
  const std::string mode = c.text("mode", "constant");
  nn::PadMode m = nn::PadMode::constant;
  if (mode == "reflect") {
    m = nn::PadMode::reflect;
  } else if (mode == "edge") {
    m = nn::PadMode::edge;
  } else if (mode != "constant") {
    c.unsupported("pad mode '", mode, "'");
  }
  std::vector<int64_t> pads;
  float value = 0.f;
  if (c.opset() < 11) {
    pads = c.integers(c.opset() < 2 ? "paddings" : "pads", {});
    value = c.real("value", 0.f);
  } else {
    pads = c.integers_input(1, "pads");
    if (c.has_input(2)) {
      const auto v = to_floats(c.constant_input(2, "constant_value"));
      if (!v.empty()) value = v[0];
    }
    if (c.has_input(3)) c.unsupported("the axes input");
  }
  for (int64_t p : pads) {
    if (p < 0) c.unsupported("negative pads (cropping)");
  }
  unary(c, make<nn::Pad>(pads, m, value));
}

void clip(Context& c) {
  float lo = -FLT_MAX, hi = FLT_MAX;
  if (c.opset() < 11) {
    lo = c.real("min", lo);
    hi = c.real("max", hi);
  } else {
    if (c.has_input(1)) lo = to_floats(c.constant_input(1, "min")).at(0);
    if (c.has_input(2)) hi = to_floats(c.constant_input(2, "max")).at(0);
  }
  unary(c, make<nn::HardTanh>(lo, hi));
}

void prelu(Context& c) {
  const Value& x = c.input(0);
  const Value& slope = c.input(1);
  if (slope.is_constant() && x.shape.size() >= 2) {
    const int64_t channels = x.shape[1];
    const int64_t n = slope.constant.numel();
    // One slope, or one per channel: before opset 7 a slope of C entries always
    // meant per channel; since, NumPy broadcasting that must put them on dimension 1.
    bool per_channel = n == channels;
    if (per_channel && c.opset() >= 7) {
      Shape s = slope.shape;
      if (s.size() > x.shape.size()) per_channel = false;
      while (s.size() < x.shape.size()) s.insert(s.begin(), 1);
      for (size_t d = 0; d < s.size() && per_channel; ++d) {
        per_channel = s[d] == (d == 1 ? channels : 1);
      }
    }
    if (n == 1 || per_channel) {
      auto m = std::make_unique<nn::PReLU>(n);
      copy_into(m->weight(), slope.constant.contiguous().view({n}), c, "slope");
      c.set_output(0, c.add(std::move(m), {x}));
      return;
    }
  }
  // Any other broadcast: relu(x) - slope * relu(-x).
  const Value pos = c.add(make<nn::ReLU>(), {x});
  const Value neg = c.add(make<nn::ReLU>(), {c.add(make<nn::Unary>(nn::UnaryOp::neg), {x})});
  const Value scaled = binary(c, nn::BinaryOp::mul, neg, slope);
  c.set_output(0, binary(c, nn::BinaryOp::sub, pos, scaled));
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

// Where the batch dimension goes through a reduction over `axes` (all when
// empty): gone when reduced, moved left by the dropped axes before it.
int reduced_batch_axis(const Value& x, const std::vector<int64_t>& axes, bool keep) {
  if (x.batch_axis < 0 || axes.empty()) return -1;
  int before = 0;
  for (int64_t a : axes) {
    if (a == x.batch_axis) return -1;
    before += a < x.batch_axis;
  }
  return keep ? x.batch_axis : x.batch_axis - before;
}

void reduce(Context& c, nn::ReduceOp op) {
  const Value& x = c.input(0);
  // ReduceSum takes its axes as an input from opset 13, the others from 18.
  const bool axes_input = c.node().op_type() == "ReduceSum" ? c.opset() >= 13 : c.opset() >= 18;
  std::vector<int64_t> axes = axes_input ? (c.has_input(1) ? c.integers_input(1, "axes")
                                                           : std::vector<int64_t>{})
                                         : c.integers("axes", {});
  if (axes.empty() && c.integer("noop_with_empty_axes", 0) != 0) {
    c.set_output(0, c.add(make<nn::Identity>(), {x}));
    return;
  }
  for (auto& a : axes) a = normalize_axis(c, a, x.shape.size());
  const bool keep = c.integer("keepdims", 1) != 0;
  Value y = c.add(make<nn::Reduce>(op, axes, keep), {x});
  y.batch_axis = reduced_batch_axis(x, axes, keep);
  c.set_output(0, y);
}

// The reductions ONNX defines as a function of a sum: before (on each element)
// and after (on the sum).
void reduce_composed(Context& c, std::optional<nn::UnaryOp> before, bool square,
                     std::optional<nn::UnaryOp> after) {
  const Value& x = c.input(0);
  const bool axes_input = c.opset() >= 18;
  std::vector<int64_t> axes = axes_input ? (c.has_input(1) ? c.integers_input(1, "axes")
                                                           : std::vector<int64_t>{})
                                         : c.integers("axes", {});
  if (axes.empty() && c.integer("noop_with_empty_axes", 0) != 0) {
    c.unsupported("noop_with_empty_axes");
  }
  for (auto& a : axes) a = normalize_axis(c, a, x.shape.size());
  Value v = x;
  if (before) v = c.add(make<nn::Unary>(*before), {v});
  if (square) v = c.add(make<nn::Binary>(nn::BinaryOp::mul), {v, v});
  const bool keep = c.integer("keepdims", 1) != 0;
  v = c.add(make<nn::Reduce>(nn::ReduceOp::sum, axes, keep), {v});
  v.batch_axis = reduced_batch_axis(x, axes, keep);
  if (after) v = c.add(make<nn::Unary>(*after), {v});
  c.set_output(0, v);
}

// LayerNormalization (opset 17) as its definition composes it: normalise over
// the dimensions from `axis` on with the biased variance, then scale and shift
// (both trainable when initializers).
void layer_norm(Context& c) {
  const Value& x = c.input(0);
  const auto rank = x.shape.size();
  const int64_t axis = normalize_axis(c, c.integer("axis", -1), rank);
  std::vector<int64_t> axes;
  for (auto d = static_cast<size_t>(axis); d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
  const float eps = c.real("epsilon", 1e-5f);
  auto mean_of = [&](const Value& v) {
    return c.add(make<nn::Reduce>(nn::ReduceOp::mean, axes, true), {v});
  };
  const Value mean = mean_of(x);
  const Value centred = binary(c, nn::BinaryOp::sub, x, mean);
  const Value var = mean_of(c.add(make<nn::Binary>(nn::BinaryOp::mul), {centred, centred}));
  const Value std_dev =
      c.add(make<nn::Unary>(nn::UnaryOp::sqrt),
            {binary(c, nn::BinaryOp::add, var, Context::constant(Tensor::full({}, eps)))});
  Value y = binary(c, nn::BinaryOp::div, centred, std_dev);
  y = binary(c, nn::BinaryOp::mul, y, c.input(1));
  if (c.has_input(2)) y = binary(c, nn::BinaryOp::add, y, c.input(2));
  c.set_output(0, y);
  // The optional outputs: the mean and 1 / standard deviation, kept dimensions.
  if (c.output_used(1)) c.set_output(1, mean);
  if (c.output_used(2)) c.set_output(2, c.add(make<nn::Unary>(nn::UnaryOp::reciprocal), {std_dev}));
}

void constant_of_shape(Context& c) {
  const auto shape = c.integers_input(0, "the shape");
  for (int64_t d : shape) {
    if (d < 0) c.invalid("negative dimension ", d);
  }
  Tensor value = c.has_attribute("value") ? c.tensor("value") : Tensor::full({1}, 0.f);
  if (value.numel() != 1) c.invalid("value has ", value.numel(), " elements, expected 1");
  if (value.dtype() == DType::i64) {
    std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)), to_integers(value)[0]);
    c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(v), shape)));
    return;
  }
  c.set_output(0, Context::constant(Tensor::full(shape, to_floats(value)[0])));
}

// ConstantFill (experimental before opset 9; PyTorch's older exports use it
// for recurrent layers' initial states): a tensor of one value, shaped by its
// input's values (input_as_shape) or its input's shape, or by `shape`.
void constant_fill(Context& c) {
  Shape shape;
  if (c.has_input(0)) {
    shape = c.integer("input_as_shape", 0) != 0 ? c.integers_input(0, "the shape")
                                                  : c.input(0).shape;
  } else {
    shape = c.integers("shape", {});
  }
  for (int64_t d : c.integers("extra_shape", {})) shape.push_back(d);
  for (int64_t d : shape) {
    if (d < 0) c.invalid("negative dimension ", d);
  }
  const float value = c.real("value", 0.f);
  if (c.integer("dtype", ::onnx::TensorProto::FLOAT) != ::onnx::TensorProto::FLOAT) {
    std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)), static_cast<int64_t>(value));
    c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(v), shape)));
    return;
  }
  c.set_output(0, Context::constant(Tensor::full(shape, value)));
}

void size(Context& c) {
  const std::vector<int64_t> n{shape_numel(c.input(0).shape)};
  c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(n), {})));
}

void constant(Context& c) {
  Tensor t;
  if (c.has_attribute("value")) {
    t = c.tensor("value");
  } else if (c.has_attribute("value_float")) {
    t = Tensor::full({}, c.real("value_float", 0));
  } else if (c.has_attribute("value_floats")) {
    const auto v = c.reals("value_floats", {});
    t = Tensor::from_vector(std::span<const float>(v), {static_cast<int64_t>(v.size())});
  } else if (c.has_attribute("value_int")) {
    const std::vector<int64_t> v{c.integer("value_int", 0)};
    t = Tensor::from_vector(std::span<const int64_t>(v), {});
  } else if (c.has_attribute("value_ints")) {
    const auto v = c.integers("value_ints", {});
    t = Tensor::from_vector(std::span<const int64_t>(v), {static_cast<int64_t>(v.size())});
  } else {
    c.unsupported("a Constant without a numeric value (sparse or string)");
  }
  c.set_output(0, Context::constant(std::move(t)));
}

void shape(Context& c) {
  const Value& x = c.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t start = c.integer("start", 0);
  int64_t end = c.integer("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.shape.begin() + start, x.shape.begin() + end);
  c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(dims),
                                                        {end - start})));
}

void cast(Context& c) {
  const Value& x = c.input(0);
  const int64_t to = c.integer("to", 0);
  const bool to_integer = to == ::onnx::TensorProto::INT64 || to == ::onnx::TensorProto::INT32;
  if (x.is_constant()) {
    if (to == ::onnx::TensorProto::FLOAT) {
      const auto v = to_floats(x.constant);
      c.set_output(0, Context::constant(Tensor::from_vector(std::span<const float>(v), x.shape)));
      return;
    }
    if (to_integer) {
      const auto v = to_integers(x.constant);
      c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(v), x.shape)));
      return;
    }
  }
  // Run-time values stay float32: a cast to float is the identity, and a cast to
  // an integer type marks the value as integer (embedding indices).
  if (to == ::onnx::TensorProto::FLOAT || to_integer) {
    Value y = c.add(make<nn::Identity>(), {x}, /*takes_integers=*/true);
    y.integer = to_integer;
    c.set_output(0, y);
    return;
  }
  c.unsupported("a cast to ", ::onnx::TensorProto::DataType_Name(
                                  static_cast<::onnx::TensorProto::DataType>(to)),
                " of a run-time value");
}

void expand(Context& c) {
  const Value& x = c.input(0);
  const auto target = c.integers_input(1, "the shape");
  // Broadcast against ones of the target shape: x * 1 has the broadcast shape.
  Tensor ones = Tensor::full(target, 1.f);
  c.set_output(0, binary(c, nn::BinaryOp::mul, x, Context::constant(std::move(ones))));
}

void identity(Context& c) {
  const Value& x = c.input(0);
  c.set_output(0, x.is_constant() ? x : c.add(make<nn::Identity>(), {x}));
}

const std::map<std::string, Converter>& converters() {
  using nn::BinaryOp;
  using nn::UnaryOp;
  static const std::map<std::string, Converter> table = {
      {"Abs", [](Context& c) { unary_fn(c, UnaryOp::abs); }},
      {"Add", [](Context& c) { binary_op(c, BinaryOp::add); }},
      {"AveragePool", [](Context& c) { pool(c, true); }},
      {"BatchNormalization", &batch_norm},
      {"Cast", &cast},
      {"Ceil", [](Context& c) { unary_fn(c, UnaryOp::ceil); }},
      {"Clip", &clip},
      {"Concat", &concat},
      {"Constant", &constant},
      {"ConstantFill", &constant_fill},
      {"ConstantOfShape", &constant_of_shape},
      {"Conv", &conv},
      {"ConvTranspose", &conv_transpose},
      {"Cos", [](Context& c) { unary_fn(c, UnaryOp::cos); }},
      {"Div", [](Context& c) { binary_op(c, BinaryOp::div); }},
      {"Dropout", &dropout},
      {"Elu", [](Context& c) { unary(c, make<nn::ELU>(c.real("alpha", 1.f))); }},
      {"Erf", [](Context& c) { unary_fn(c, UnaryOp::erf); }},
      {"Exp", [](Context& c) { unary_fn(c, UnaryOp::exp); }},
      {"Expand", &expand},
      {"Flatten", &flatten},
      {"Floor", [](Context& c) { unary_fn(c, UnaryOp::floor); }},
      {"Gather", &gather},
      {"Gemm", &gemm},
      {"GlobalAveragePool", [](Context& c) { global_pool(c, true); }},
      {"GlobalMaxPool", [](Context& c) { global_pool(c, false); }},
      {"GRU", &convert_gru},
      {"HardSigmoid",
       [](Context& c) { unary_fn(c, UnaryOp::hard_sigmoid, c.real("alpha", 0.2f), c.real("beta", 0.5f)); }},
      {"Identity", &identity},
      {"LayerNormalization", &layer_norm},
      {"LeakyRelu", [](Context& c) { unary(c, make<nn::LeakyReLU>(c.real("alpha", 0.01f))); }},
      {"Log", [](Context& c) { unary_fn(c, UnaryOp::log); }},
      {"LogSoftmax", [](Context& c) { softmax(c, true); }},
      {"LRN", &lrn},
      {"LSTM", &convert_lstm},
      {"MatMul", &matmul},
      {"Max", [](Context& c) { variadic(c, BinaryOp::max, false); }},
      {"MaxPool", [](Context& c) { pool(c, false); }},
      {"Mean", [](Context& c) { variadic(c, BinaryOp::add, true); }},
      {"Min", [](Context& c) { variadic(c, BinaryOp::min, false); }},
      {"Mul", [](Context& c) { binary_op(c, BinaryOp::mul); }},
      {"Neg", [](Context& c) { unary_fn(c, UnaryOp::neg); }},
      {"Pad", &pad},
      {"Pow", [](Context& c) { binary_op(c, BinaryOp::pow); }},
      {"PRelu", &prelu},
      {"Reciprocal", [](Context& c) { unary_fn(c, UnaryOp::reciprocal); }},
      {"ReduceL1", [](Context& c) { reduce_composed(c, UnaryOp::abs, false, std::nullopt); }},
      {"ReduceL2", [](Context& c) { reduce_composed(c, std::nullopt, true, UnaryOp::sqrt); }},
      {"ReduceLogSum", [](Context& c) { reduce_composed(c, std::nullopt, false, UnaryOp::log); }},
      {"ReduceLogSumExp", [](Context& c) { reduce_composed(c, UnaryOp::exp, false, UnaryOp::log); }},
      {"ReduceMax", [](Context& c) { reduce(c, nn::ReduceOp::max); }},
      {"ReduceMean", [](Context& c) { reduce(c, nn::ReduceOp::mean); }},
      {"ReduceMin", [](Context& c) { reduce(c, nn::ReduceOp::min); }},
      {"ReduceSumSquare", [](Context& c) { reduce_composed(c, std::nullopt, true, std::nullopt); }},
      {"ReduceSum", [](Context& c) { reduce(c, nn::ReduceOp::sum); }},
      {"Relu", [](Context& c) { unary(c, make<nn::ReLU>()); }},
      {"Reshape", &reshape},
      {"Resize", &resize},
      {"Selu",
       [](Context& c) {
         unary_fn(c, UnaryOp::selu, c.real("alpha", 1.67326319217681884765625f),
                  c.real("gamma", 1.05070102214813232421875f));
       }},
      {"Shape", &shape},
      {"Sigmoid", [](Context& c) { unary(c, make<nn::Sigmoid>()); }},
      {"Sin", [](Context& c) { unary_fn(c, UnaryOp::sin); }},
      {"Size", &size},
      {"Slice", &slice},
      {"Softmax", [](Context& c) { softmax(c, false); }},
      {"Softplus", [](Context& c) { unary(c, make<nn::SoftPlus>(1.f, 20.f)); }},
      {"Softsign", [](Context& c) { unary_fn(c, UnaryOp::softsign); }},
      {"Split", &split},
      {"Sqrt", [](Context& c) { unary_fn(c, UnaryOp::sqrt); }},
      {"Squeeze", &squeeze},
      {"Sub", [](Context& c) { binary_op(c, BinaryOp::sub); }},
      {"Sum", [](Context& c) { variadic(c, BinaryOp::add, false); }},
      {"Tanh", [](Context& c) { unary(c, make<nn::Tanh>()); }},
      {"Transpose", &transpose},
      {"Unsqueeze", &unsqueeze},
      {"Upsample", &resize},
  };
  return table;
}

}  // namespace

Converter find_converter(const std::string& op_type) {
  const auto it = converters().find(op_type);
  return it == converters().end() ? nullptr : it->second;
}

std::vector<std::string> converter_names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : converters()) out.push_back(name);
  return out;
}

}  // namespace bdl::onnx
