#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class InnerProductKernel;
}

namespace bdl::nn {

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  static void fields(auto& o, auto& field) {
    field("in_features", o.in_features);
    field("out_features", o.out_features);
    field("bias", o.bias, Presence::may_be_absent);
  }
};

// y = x W^T + b over the last dimension; leading dimensions are batch. Weight
// (out, in) and bias start uniform in +-1/sqrt(in), as in PyTorch.
class Linear : public Layer<Linear> {
 public:
  static constexpr std::string_view kType = "Linear";
  explicit Linear(LinearOptions options);
  Linear(int64_t in_features, int64_t out_features, bool bias = true)
      : Linear(LinearOptions{in_features, out_features, bias}) {}
  ~Linear() override;

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  bool output_may_be_overwritten() const override { return true; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;

  const LinearOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }

 private:
  int64_t batch_of(const Tensor& input) const;

  LinearOptions options_;
  Tensor weight_, bias_, grad_weight_, grad_bias_;
  std::unique_ptr<kernels::InnerProductKernel> kernel_;
};

}  // namespace bdl::nn
