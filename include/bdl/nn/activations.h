#pragma once

#include <memory>

#include "bdl/nn/module.h"

namespace bdl::kernels {
class EltwiseKernel;
}

namespace bdl::nn {

// max(x, 0), element-wise, any shape.
class ReLU : public Module {
 public:
  ReLU();
  ~ReLU() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "ReLU"; }
  Shape output_shape(const Shape& input) const override { return input; }

 private:
  std::unique_ptr<kernels::EltwiseKernel> kernel_;
};

}  // namespace bdl::nn
