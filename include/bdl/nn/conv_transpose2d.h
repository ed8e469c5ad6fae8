#pragma once

#include <memory>
#include <optional>

#include "bdl/nn/conv2d.h"

namespace bdl::nn {

struct ConvTranspose2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  Size2 kernel = 1;
  Size2 stride = 1;
  // Removed from the top and left; also bottom and right unless padding_end says.
  Size2 padding = 0;
  std::optional<Size2> padding_end = {};
  // Added to the bottom and right (picks among the sizes a stride allows).
  Size2 output_padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  static void fields(auto& o, auto& field) {
    convolution_fields(o, field);
    field("output_padding", o.output_padding);
  }
};

// The transpose of a 2-d convolution (a "deconvolution", BigDL's
// SpatialFullConvolution), as torch.nn.ConvTranspose2d and ONNX ConvTranspose:
// each input pixel scatters a weighted kernel into the output. Weight
// (in_channels, out_channels / groups, kh, kw); output size
// (in - 1) * stride - padding - padding_end + dilation * (kernel - 1) + output_padding + 1.
// Computed as a matrix product per sample and group and a col2im scatter.
class ConvTranspose2d : public Layer<ConvTranspose2d> {
 public:
  static constexpr std::string_view kType = "ConvTranspose2d";
  explicit ConvTranspose2d(ConvTranspose2dOptions options);

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;

  const ConvTranspose2dOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }

 private:
  Size2 pad_end() const { return options_.padding_end.value_or(options_.padding); }

  ConvTranspose2dOptions options_;
  Tensor weight_, bias_, grad_weight_, grad_bias_;
  Tensor dense_, dense_grad_, columns_;
};

}  // namespace bdl::nn
