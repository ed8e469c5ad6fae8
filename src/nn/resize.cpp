#include "bdl/nn/resize.h"

#include <cmath>

#include "nn/dense.h"

namespace bdl::nn {

std::string resize_coordinates_name(ResizeCoordinates c) {
  switch (c) {
    case ResizeCoordinates::half_pixel:
      return "half_pixel";
    case ResizeCoordinates::pytorch_half_pixel:
      return "pytorch_half_pixel";
    case ResizeCoordinates::align_corners:
      return "align_corners";
    case ResizeCoordinates::asymmetric:
      return "asymmetric";
    case ResizeCoordinates::tf_half_pixel_for_nn:
      return "tf_half_pixel_for_nn";
  }
  return "?";
}

std::string nearest_rounding_name(NearestRounding r) {
  switch (r) {
    case NearestRounding::round_prefer_floor:
      return "round_prefer_floor";
    case NearestRounding::round_prefer_ceil:
      return "round_prefer_ceil";
    case NearestRounding::floor:
      return "floor";
    case NearestRounding::ceil:
      return "ceil";
  }
  return "?";
}

Resize::Resize(ResizeOptions options) : options_(options) {
  const auto& o = options_;
  BDL_CHECK(o.height >= 0 && o.width >= 0 && (o.height > 0) == (o.width > 0), "Resize: sizes ",
            o.height, "x", o.width, " must both be given, and positive");
  BDL_CHECK(o.height > 0 || (o.scale_h > 0 && o.scale_w > 0 && std::isfinite(o.scale_h) &&
                             std::isfinite(o.scale_w) && o.scale_h < 1e6 && o.scale_w < 1e6),
            "Resize: scales must be positive and finite, got ", o.scale_h, "x", o.scale_w);
}

std::string Resize::describe() const {
  const auto& o = options_;
  std::string s = o.linear ? "Resize(bilinear" : "Resize(nearest";
  s += o.height > 0 ? detail::concat(", to ", o.height, "x", o.width)
                    : detail::concat(", scale ", o.scale_h, "x", o.scale_w);
  return s + ", " + resize_coordinates_name(o.coordinates) + ")";
}

Shape Resize::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  const auto& o = options_;
  if (o.height > 0) return {input[0], input[1], o.height, o.width};
  const auto h = static_cast<int64_t>(std::floor(static_cast<double>(input[2]) * o.scale_h));
  const auto w = static_cast<int64_t>(std::floor(static_cast<double>(input[3]) * o.scale_w));
  BDL_CHECK(h > 0 && w > 0 && h <= (int64_t{1} << 31) && w <= (int64_t{1} << 31), label(),
            ": scales ", o.scale_h, "x", o.scale_w, " give an output of ", h, "x", w);
  return {input[0], input[1], h, w};
}

Resize::Taps Resize::taps(int64_t in, int64_t out, double scale) const {
  // With fixed sizes the scale is output / input (ONNX's rule).
  if (options_.height > 0) scale = static_cast<double>(out) / static_cast<double>(in);
  Taps t;
  for (int64_t i = 0; i < out; ++i) {
    double x = 0;
    switch (options_.coordinates) {
      case ResizeCoordinates::half_pixel:
        x = (static_cast<double>(i) + 0.5) / scale - 0.5;
        break;
      case ResizeCoordinates::pytorch_half_pixel:
        x = out > 1 ? (static_cast<double>(i) + 0.5) / scale - 0.5 : 0.0;
        break;
      case ResizeCoordinates::align_corners: {
        // ONNX's resized length is in * scale before rounding down.
        const double resized = options_.height > 0 ? static_cast<double>(out)
                                                   : static_cast<double>(in) * scale;
        x = resized > 1 ? static_cast<double>(i) * static_cast<double>(in - 1) / (resized - 1) : 0.0;
        break;
      }
      case ResizeCoordinates::asymmetric:
        x = static_cast<double>(i) / scale;
        break;
      case ResizeCoordinates::tf_half_pixel_for_nn:
        x = (static_cast<double>(i) + 0.5) / scale;
        break;
    }
    auto clip = [in](double v) {
      return std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(v), 0), in - 1);
    };
    if (options_.linear) {
      const double f = std::floor(x);
      t.first.push_back(clip(f));
      t.second.push_back(clip(f + 1));
      t.weight.push_back(static_cast<float>(x - f));
    } else {
      double r = 0;
      switch (options_.rounding) {
        case NearestRounding::round_prefer_floor:
          r = std::ceil(x - 0.5);
          break;
        case NearestRounding::round_prefer_ceil:
          r = std::floor(x + 0.5);
          break;
        case NearestRounding::floor:
          r = std::floor(x);
          break;
        case NearestRounding::ceil:
          r = std::ceil(x);
          break;
      }
      t.first.push_back(clip(r));
      t.second.push_back(clip(r));
      t.weight.push_back(0.f);
    }
  }
  return t;
}

const Tensor& Resize::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape out = output_shape(x.shape());
  output_.resize(out);
  const int64_t planes = out[0] * out[1], ih = x.shape()[2], iw = x.shape()[3];
  const int64_t oh = out[2], ow = out[3];
  const Taps ty = taps(ih, oh, options_.scale_h), tx = taps(iw, ow, options_.scale_w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x.f32() + p * ih * iw;
    float* dst = output_.f32() + p * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const float* r0 = src + ty.first[static_cast<size_t>(i)] * iw;
      const float* r1 = src + ty.second[static_cast<size_t>(i)] * iw;
      const float wy = ty.weight[static_cast<size_t>(i)];
      for (int64_t j = 0; j < ow; ++j) {
        const auto c0 = tx.first[static_cast<size_t>(j)], c1 = tx.second[static_cast<size_t>(j)];
        const float wx = tx.weight[static_cast<size_t>(j)];
        const float top = r0[c0] + wx * (r0[c1] - r0[c0]);
        const float bottom = r1[c0] + wx * (r1[c1] - r1[c0]);
        dst[i * ow + j] = top + wy * (bottom - top);
      }
    }
  }
  return output_;
}

const Tensor& Resize::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(input.shape());
  grad_input_.zero();
  const Shape& out = g.shape();
  const int64_t planes = out[0] * out[1], ih = input.shape()[2], iw = input.shape()[3];
  const int64_t oh = out[2], ow = out[3];
  const Taps ty = taps(ih, oh, options_.scale_h), tx = taps(iw, ow, options_.scale_w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = g.f32() + p * oh * ow;
    float* dst = grad_input_.f32() + p * ih * iw;
    for (int64_t i = 0; i < oh; ++i) {
      float* r0 = dst + ty.first[static_cast<size_t>(i)] * iw;
      float* r1 = dst + ty.second[static_cast<size_t>(i)] * iw;
      const float wy = ty.weight[static_cast<size_t>(i)];
      for (int64_t j = 0; j < ow; ++j) {
        const auto c0 = tx.first[static_cast<size_t>(j)], c1 = tx.second[static_cast<size_t>(j)];
        const float wx = tx.weight[static_cast<size_t>(j)];
        const float v = src[i * ow + j];
        r0[c0] += v * (1 - wy) * (1 - wx);
        r0[c1] += v * (1 - wy) * wx;
        r1[c0] += v * wy * (1 - wx);
        r1[c1] += v * wy * wx;
      }
    }
  }
  return grad_input_;
}

void Resize::attributes(Attributes& out) const {
  const auto& o = options_;
  out.set("mode", o.linear ? "linear" : "nearest")
      .set("coordinates", resize_coordinates_name(o.coordinates))
      .set("rounding", nearest_rounding_name(o.rounding))
      .set("size", std::vector<int64_t>{o.height, o.width})
      .set("scale", std::vector<double>{o.scale_h, o.scale_w});
}

std::unique_ptr<Module> Resize::create(const Attributes& a) {
  ResizeOptions o;
  const std::string& mode = a.text("mode");
  BDL_CHECK(mode == "linear" || mode == "nearest", a.owner(), ": unknown mode '", mode, "'");
  o.linear = mode == "linear";
  const std::string& coords = a.text("coordinates");
  bool found = false;
  for (auto c : {ResizeCoordinates::half_pixel, ResizeCoordinates::pytorch_half_pixel,
                 ResizeCoordinates::align_corners, ResizeCoordinates::asymmetric,
                 ResizeCoordinates::tf_half_pixel_for_nn}) {
    if (coords == resize_coordinates_name(c)) {
      o.coordinates = c;
      found = true;
    }
  }
  BDL_CHECK(found, a.owner(), ": unknown coordinate mode '", coords, "'");
  const std::string& rounding = a.text("rounding");
  found = false;
  for (auto r : {NearestRounding::round_prefer_floor, NearestRounding::round_prefer_ceil,
                 NearestRounding::floor, NearestRounding::ceil}) {
    if (rounding == nearest_rounding_name(r)) {
      o.rounding = r;
      found = true;
    }
  }
  BDL_CHECK(found, a.owner(), ": unknown rounding '", rounding, "'");
  const auto& size = a.integers("size", 2, 0);
  o.height = size[0];
  o.width = size[1];
  const auto& scale = a.reals("scale");
  BDL_CHECK(scale.size() == 2, a.owner(), ": scale has ", scale.size(), " values, expected 2");
  o.scale_h = scale[0];
  o.scale_w = scale[1];
  return std::make_unique<Resize>(o);
}

}  // namespace bdl::nn
