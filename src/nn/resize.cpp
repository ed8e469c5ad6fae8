#include "bdl/nn/resize.h"

#include <cmath>
#include <initializer_list>
#include <optional>
#include <utility>

#include "nn/dense.h"

namespace bdl::nn {

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
  std::string s = o.mode == ResizeMode::nearest  ? "Resize(nearest"
                  : o.mode == ResizeMode::linear ? "Resize(bilinear"
                                                 : "Resize(bicubic";
  s += o.height > 0 ? detail::concat(", to ", o.height, "x", o.width)
                    : detail::concat(", scale ", o.scale_h, "x", o.scale_w);
  return s + ", " + std::string(fields::enum_name(o.coordinates)) + ")";
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

namespace {

// The input coordinate output index i maps to, along an axis of `in` input
// and `out` output elements (ONNX Resize's coordinate_transformation_mode).
double source_coordinate(const ResizeOptions& o, int64_t i, int64_t in, int64_t out, double scale) {
  const auto at = static_cast<double>(i);
  switch (o.coordinates) {
    case ResizeCoordinates::half_pixel:
      return (at + 0.5) / scale - 0.5;
    case ResizeCoordinates::pytorch_half_pixel:
      return out > 1 ? (at + 0.5) / scale - 0.5 : 0.0;
    case ResizeCoordinates::align_corners: {
      // ONNX's resized length is in * scale before rounding down.
      const double resized =
          o.height > 0 ? static_cast<double>(out) : static_cast<double>(in) * scale;
      return resized > 1 ? at * static_cast<double>(in - 1) / (resized - 1) : 0.0;
    }
    case ResizeCoordinates::asymmetric:
      return at / scale;
    case ResizeCoordinates::tf_half_pixel_for_nn:
      return (at + 0.5) / scale;
  }
  return 0.0;
}

struct Tap {
  std::array<int64_t, 4> index{};
  std::array<float, 4> weight{};
};

int64_t clip_index(double v, int64_t in) {
  return std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(v), 0), in - 1);
}

Tap nearest_tap(NearestRounding rounding, double x, int64_t in) {
  double r = 0;
  switch (rounding) {
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
  return {{clip_index(r, in), 0, 0, 0}, {1.f, 0.f, 0.f, 0.f}};
}

Tap linear_tap(double x, int64_t in) {
  const double f = std::floor(x);
  return {{clip_index(f, in), clip_index(f + 1, in), 0, 0},
          {static_cast<float>(1 - (x - f)), static_cast<float>(x - f), 0.f, 0.f}};
}

// Keys' cubic convolution over the four neighbours f-1 .. f+2; with
// exclude_outside the weights of taps outside the input drop out and the rest
// are scaled to sum to one.
Tap cubic_tap(const ResizeOptions& o, double x, int64_t in) {
  const double f = std::floor(x), r = x - f, a = o.cubic_a;
  auto near = [a](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };       // |d| <= 1
  auto far = [a](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 < |d| < 2
  const double w[4] = {far(1 + r), near(r), near(1 - r), far(2 - r)};
  Tap t;
  double kept = 0;
  for (size_t k = 0; k < 4; ++k) {
    const double at = f - 1 + static_cast<double>(k);
    const bool outside = at < 0 || at > static_cast<double>(in - 1);
    t.index[k] = clip_index(at, in);
    const double wk = o.exclude_outside && outside ? 0.0 : w[k];
    t.weight[k] = static_cast<float>(wk);
    kept += wk;
  }
  if (o.exclude_outside && kept != 0) {
    for (float& v : t.weight) v = static_cast<float>(v / kept);
  }
  return t;
}

}  // namespace

Resize::Taps Resize::taps(int64_t in, int64_t out, double scale) const {
  // With fixed sizes the scale is output / input (ONNX's rule).
  if (options_.height > 0) scale = static_cast<double>(out) / static_cast<double>(in);
  Taps t;
  t.count = options_.mode == ResizeMode::nearest ? 1 : options_.mode == ResizeMode::linear ? 2 : 4;
  for (int64_t i = 0; i < out; ++i) {
    const double x = source_coordinate(options_, i, in, out, scale);
    const Tap tap = options_.mode == ResizeMode::linear  ? linear_tap(x, in)
                    : options_.mode == ResizeMode::cubic ? cubic_tap(options_, x, in)
                                                         : nearest_tap(options_.rounding, x, in);
    t.index.push_back(tap.index);
    t.weight.push_back(tap.weight);
  }
  return t;
}

namespace {

// Every (output element, input element, weight) of a resize of `planes` planes:
// visit(out_offset, in_offset, weight). Forward gathers along these; backward
// scatters the gradient back along the same ones.
template <typename Taps, typename Visit>
void for_each_tap(const Taps& ty, const Taps& tx, int64_t planes, int64_t ih, int64_t iw,
                  Visit&& visit) {
  const auto oh = static_cast<int64_t>(ty.index.size());
  const auto ow = static_cast<int64_t>(tx.index.size());
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t i = 0; i < oh; ++i) {
      const auto& yi = ty.index[static_cast<size_t>(i)];
      const auto& yw = ty.weight[static_cast<size_t>(i)];
      for (int64_t j = 0; j < ow; ++j) {
        const auto& xi = tx.index[static_cast<size_t>(j)];
        const auto& xw = tx.weight[static_cast<size_t>(j)];
        const int64_t out = (p * oh + i) * ow + j;
        for (size_t a = 0; a < static_cast<size_t>(ty.count); ++a) {
          const int64_t row = (p * ih + yi[a]) * iw;
          for (size_t b = 0; b < static_cast<size_t>(tx.count); ++b) {
            visit(out, row + xi[b], yw[a] * xw[b]);
          }
        }
      }
    }
  }
}

}  // namespace

const Tensor& Resize::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape out = output_shape(x.shape());
  output_.resize(out);
  output_.zero();
  const int64_t ih = x.shape()[2], iw = x.shape()[3];
  const float* src = x.f32();
  float* dst = output_.f32();
  for_each_tap(taps(ih, out[2], options_.scale_h), taps(iw, out[3], options_.scale_w),
               out[0] * out[1], ih, iw,
               [&](int64_t o, int64_t i, float w) { dst[o] += w * src[i]; });
  return output_;
}

const Tensor& Resize::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(input.shape());
  grad_input_.zero();
  const Shape& out = g.shape();
  const int64_t ih = input.shape()[2], iw = input.shape()[3];
  const float* src = g.f32();
  float* dst = grad_input_.f32();
  for_each_tap(taps(ih, out[2], options_.scale_h), taps(iw, out[3], options_.scale_w),
               out[0] * out[1], ih, iw,
               [&](int64_t o, int64_t i, float w) { dst[i] += w * src[o]; });
  return grad_input_;
}

const RegisterLayers<Resize> kRegistered;

}  // namespace bdl::nn
