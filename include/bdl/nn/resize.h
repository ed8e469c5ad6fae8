#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// How an output pixel maps to input coordinates (ONNX Resize's
// coordinate_transformation_mode): half_pixel is PyTorch's align_corners=False,
// align_corners its align_corners=True, asymmetric its nearest mode.
enum class ResizeCoordinates {
  half_pixel,
  pytorch_half_pixel,
  align_corners,
  asymmetric,
  tf_half_pixel_for_nn
};
constexpr EnumNames<ResizeCoordinates, 5> enum_names(ResizeCoordinates) {
  return {{{ResizeCoordinates::half_pixel, "half_pixel"},
           {ResizeCoordinates::pytorch_half_pixel, "pytorch_half_pixel"},
           {ResizeCoordinates::align_corners, "align_corners"},
           {ResizeCoordinates::asymmetric, "asymmetric"},
           {ResizeCoordinates::tf_half_pixel_for_nn, "tf_half_pixel_for_nn"}}};
}

// How nearest mode rounds a coordinate.
enum class NearestRounding { round_prefer_floor, round_prefer_ceil, floor, ceil };
constexpr EnumNames<NearestRounding, 4> enum_names(NearestRounding) {
  return {{{NearestRounding::round_prefer_floor, "round_prefer_floor"},
           {NearestRounding::round_prefer_ceil, "round_prefer_ceil"},
           {NearestRounding::floor, "floor"},
           {NearestRounding::ceil, "ceil"}}};
}

enum class ResizeMode { nearest, linear, cubic };
constexpr EnumNames<ResizeMode, 3> enum_names(ResizeMode) {
  return {{{ResizeMode::nearest, "nearest"},
           {ResizeMode::linear, "linear"},
           {ResizeMode::cubic, "cubic"}}};
}

struct ResizeOptions {
  ResizeMode mode = ResizeMode::nearest;  // nearest neighbour, bilinear or bicubic
  ResizeCoordinates coordinates = ResizeCoordinates::half_pixel;
  NearestRounding rounding = NearestRounding::round_prefer_floor;
  // The output height and width: fixed sizes when positive, otherwise the input's
  // times the scales (rounded down).
  int64_t height = 0, width = 0;
  double scale_h = 1, scale_w = 1;
  // Bicubic only: the kernel's A (-0.75 as PyTorch and ONNX) and whether taps
  // outside the input drop out (their weight shared among the others) rather than
  // repeat the edge.
  double cubic_a = -0.75;
  bool exclude_outside = false;
  static void fields(auto& o, auto& field) {
    field("mode", o.mode);
    field("cubic_a", o.cubic_a, Presence::may_be_absent);
    field("exclude_outside", o.exclude_outside, Presence::may_be_absent);
    field("coordinates", o.coordinates);
    field("rounding", o.rounding);
    field("size", o.height, o.width);
    field("scale", o.scale_h, o.scale_w);
  }
};

// Resizes the height and width of (N, C, H, W) input by nearest-neighbour,
// bilinear or bicubic interpolation (ONNX Resize and Upsample, torch.nn.functional.
// interpolate): upsampling in segmentation and detection networks. The gradient
// scatters back with the same weights.
class Resize : public Layer<Resize> {
 public:
  static constexpr std::string_view kType = "Resize";
  explicit Resize(ResizeOptions options);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  const ResizeOptions& options() const { return options_; }

 private:
  // Per output index along one axis: `count` input indices and their weights.
  struct Taps {
    int count = 1;
    std::vector<std::array<int64_t, 4>> index;
    std::vector<std::array<float, 4>> weight;
  };
  Taps taps(int64_t in, int64_t out, double scale) const;

  ResizeOptions options_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
