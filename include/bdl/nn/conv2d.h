#pragma once

#include <memory>
#include <optional>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class Conv2dKernel;
struct Conv2dGeometry;
}  // namespace bdl::kernels

namespace bdl::nn {

class BatchNorm;

// The fields Conv2dOptions and ConvTranspose2dOptions share, in file order.
void convolution_fields(auto& o, auto& field) {
  field("in_channels", o.in_channels);
  field("out_channels", o.out_channels);
  field("kernel", o.kernel);
  field("stride", o.stride);
  field("padding", o.padding);
  field("dilation", o.dilation);
  field("groups", o.groups);
  field("bias", o.bias, Presence::may_be_absent);
  field("padding_end", o.padding_end);
}

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  Size2 kernel = 1;
  Size2 stride = 1;
  Size2 padding = 0;  // top and left; also bottom and right unless padding_end says
  std::optional<Size2> padding_end = {};  // bottom and right, for asymmetric (ONNX) padding
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  static void fields(auto& o, auto& field) { convolution_fields(o, field); }
};

// 2-d convolution of NCHW input with OIHW weight, as torch.nn.Conv2d. Weight and
// bias start uniform in +-1/sqrt(fan_in).
class Conv2d : public Layer<Conv2d> {
 public:
  static constexpr std::string_view kType = "Conv2d";
  explicit Conv2d(Conv2dOptions options);
  ~Conv2d() override;

  const Tensor& forward(const Tensor& input) override;
  // forward() followed by max(., 0), in one pass (oneDNN's ReLU post-op); its
  // output() is then the rectified one. For Sequential's Conv2d + ReLU fusion.
  const Tensor& forward_rectified(const Tensor& input);
  // For inference (is_inference()): the convolution with what follows it in
  // one pass, bn folded in (its running statistics), then residual added, then
  // ReLU, each when given; output() holds the result. Returns null, having done
  // nothing, where oneDNN has no fused kernel or bn normalises by batch
  // statistics: the caller then runs the modules one by one.
  const Tensor* forward_fused(const Tensor& input, const BatchNorm* bn, const Tensor* residual,
                              bool relu);
  // What the last forward fused in (for tests and `bdl info`): "" when it ran
  // alone, else e.g. "bn+add+relu".
  const std::string& last_fusion() const { return last_fusion_; }
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  bool output_may_be_overwritten() const override { return true; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;

  const Conv2dOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }
  // oneDNN's implementation names for an input shape (for benchmarks and `bdl info`).
  std::string implementation(const Shape& input);

 private:
  kernels::Conv2dGeometry geometry(const Shape& input) const;

  Conv2dOptions options_;
  Tensor weight_, bias_, grad_weight_, grad_bias_;
  std::vector<float> folded_scale_, folded_shift_;  // forward_fused's BatchNorm
  std::string last_fusion_;
  std::unique_ptr<kernels::Conv2dKernel> kernel_;
};

}  // namespace bdl::nn
