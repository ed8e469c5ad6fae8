#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class LrnKernel;
}

namespace bdl::nn {

struct LrnOptions {
  int64_t size = 5;  // channels in the window; odd, centred on the channel
  float alpha = 1e-4f;
  float beta = 0.75f;
  float k = 1.f;
  static void fields(auto& o, auto& field) {
    field("size", o.size);
    field("alpha", o.alpha);
    field("beta", o.beta);
    field("k", o.k);
  }
};

// Local response normalisation across channels of (N, C, H, W) input, as
// torch.nn.LocalResponseNorm and ONNX LRN (AlexNet, Inception v1):
// y = x / (k + alpha / size * sum of x^2 over the window)^beta.
class LRN : public Layer<LRN> {
 public:
  static constexpr std::string_view kType = "LRN";
  explicit LRN(LrnOptions options = {});
  ~LRN() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  const LrnOptions& options() const { return options_; }

 private:
  LrnOptions options_;
  std::unique_ptr<kernels::LrnKernel> kernel_;
};

}  // namespace bdl::nn
